import { Type, type Static } from 'typebox';
import { DetailError, UnprocessableBody } from '../shared.schemas.js';

/** OAuth2 password flow, as FastAPI's OAuth2PasswordRequestForm: the email goes in `username`. */
export const LoginForm = Type.Object({
  username: Type.String({ description: 'The email address.', examples: ['ada@example.com'] }),
  password: Type.String(),
  grant_type: Type.Optional(Type.String({ description: 'Ignored; "password" when sent.' })),
  scope: Type.Optional(Type.String({ description: 'Ignored.' })),
});

/** The same credentials as JSON, for clients that do not speak forms. */
export const LoginJson = Type.Object({
  email: Type.String({ examples: ['ada@example.com'] }),
  password: Type.String(),
});

export interface Credentials {
  email: string;
  password: string;
}

export const AccessToken = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
});
export type AccessToken = Static<typeof AccessToken>;

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

export const tokenSchema = {
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
