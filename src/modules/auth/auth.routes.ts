/** POST /token: the OAuth2 password flow (form) and its JSON twin; registered only when AUTH_MODE is not off. */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { IncorrectCredentials, RequestValidationError } from '../../errors.js';
import { type JsonSchema, validatePart } from '../../fastapi/validation.js';
import { prepareDummyHash, verifyAgainstDummy, verifyPassword } from '../users/passwords.js';
import * as users from '../users/users.repository.js';
import { type AccessToken, type Credentials, FORM_CONTENT_TYPE, LoginForm, LoginJson, tokenSchema } from './auth.schemas.js';
import type { AccessTokens } from './tokens.js';

export interface AuthRoutesOptions {
  tokens: AccessTokens;
}

function isForm(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').trim().toLowerCase().startsWith(FORM_CONTENT_TYPE);
}

/** Validates the body against the schema of its content type and turns both shapes into Credentials. */
async function readCredentials(request: FastifyRequest): Promise<void> {
  const form = isForm(request);
  const result = validatePart((form ? LoginForm : LoginJson) as JsonSchema, request.body, 'body');
  if (!result.ok) throw new RequestValidationError(result.issues);
  const fields = result.value as Record<string, string>;
  const credentials: Credentials = { email: (form ? fields.username : fields.email) ?? '', password: fields.password ?? '' };
  request.body = credentials;
}

export const authRoutes: FastifyPluginAsync<AuthRoutesOptions> = async (app, { tokens }) => {
  // Form bodies parse here only: every other route keeps answering a form body as FastAPI does (not a dict).
  await app.register(formbody);
  await prepareDummyHash();

  app.post<{ Body: Credentials }>(
    '/token',
    { schema: tokenSchema, config: { public: true }, preValidation: readCredentials },
    async (request, reply): Promise<AccessToken> => {
      const { email, password } = request.body;
      const refund = await app.abuseLimits.loginAttempt(request, email);
      const account = await users.findCredentials(app.db, email);
      // An unknown email costs a verification too, so the answer's timing does not tell which it was;
      // a deactivated account gets the same answer as a wrong password.
      const valid = account ? await verifyPassword(account.hashed_password, password) : await verifyAgainstDummy(password);
      if (!account || !valid || !account.active) throw new IncorrectCredentials();
      await refund();
      reply.header('cache-control', 'no-store');
      return { access_token: await tokens.issue(account.id), token_type: 'bearer' };
    },
  );
};
