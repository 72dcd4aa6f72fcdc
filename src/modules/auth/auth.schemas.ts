import { Type, type Static } from 'typebox';
import { MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH } from '../../limits.js';
import { DetailError, UnprocessableBody } from '../shared.schemas.js';

/** OAuth2 password flow, as FastAPI's OAuth2PasswordRequestForm: the email goes in `username`. */
export const LoginForm = Type.Object(
  {
    username: Type.String({ maxLength: MAX_EMAIL_LENGTH, description: 'The email address, in any letter case.', examples: ['ada@example.com'] }),
    password: Type.String({ maxLength: MAX_PASSWORD_LENGTH }),
    grant_type: Type.Optional(Type.String({ maxLength: 64, description: 'Ignored; "password" when sent.' })),
    scope: Type.Optional(Type.String({ maxLength: 1024, description: 'Ignored.' })),
  },
  { $id: 'LoginForm' },
);

/** The same credentials as JSON, for clients that do not speak forms. */
export const LoginJson = Type.Object(
  {
    email: Type.String({ maxLength: MAX_EMAIL_LENGTH, description: 'In any letter case.', examples: ['ada@example.com'] }),
    password: Type.String({ maxLength: MAX_PASSWORD_LENGTH }),
  },
  { $id: 'LoginCredentials' },
);

export interface Credentials {
  email: string;
  password: string;
}

export const AccessToken = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('bearer'),
  },
  { $id: 'AccessToken' },
);
export type AccessToken = Static<typeof AccessToken>;

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

export const tokenSchema = {
  operationId: 'login_for_access_token_token_post',
  tags: ['auth'],
  summary: 'Log in: exchange email and password for a bearer token',
  description:
    'Form fields `username` (the email) and `password`, as the OAuth2 password flow sends them, or JSON `{"email","password"}`. ' +
    'An unknown email and a wrong password get the same 401.',
  body: {
    content: {
      [FORM_CONTENT_TYPE]: { schema: LoginForm },
      'application/json': { schema: LoginJson },
    },
  },
  response: { 200: AccessToken, 401: DetailError, 422: UnprocessableBody, 429: DetailError },
};
