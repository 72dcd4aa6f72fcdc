/**
 * GET /auth/config: what a client needs to know before signing in, in a few bytes (the web inbox
 * reads it instead of the whole OpenAPI document): whether tokens are needed and whether it may sign up.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AuthMode } from '../../config.js';

export const ClientConfig = Type.Object(
  {
    auth_mode: Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('required')], {
      description: '`off`: no tokens (anyone acts as any user); `optional`: a token makes the caller known; `required`: every non-public route needs one.',
    }),
    sign_up: Type.Boolean({ description: 'Whether `POST /users/` accepts new accounts.' }),
    password_min_length: Type.Integer({ description: 'The shortest password a new account may choose (the longest is 256).' }),
    token_ttl_seconds: Type.Union([Type.Integer(), Type.Null()], { description: 'How long a token from `POST /token` lasts; null when authentication is off.' }),
  },
  { $id: 'ClientConfig', examples: [{ auth_mode: 'required', sign_up: true, password_min_length: 8, token_ttl_seconds: 3600 }] },
);

export interface ClientConfigOptions {
  authMode: AuthMode;
  tokenTtlSeconds: number;
  passwordMinLength: number;
}

export const clientConfigRoutes: FastifyPluginAsyncTypebox<ClientConfigOptions> = async (app, options) => {
  const answer = {
    auth_mode: options.authMode,
    sign_up: true,
    password_min_length: options.passwordMinLength,
    token_ttl_seconds: options.authMode === 'off' ? null : options.tokenTtlSeconds,
  };
  app.get(
    '/auth/config',
    {
      schema: {
        operationId: 'client_config_auth_config_get',
        tags: ['auth'],
        summary: 'How to sign in here: the authentication mode, whether sign-up is open, token lifetime',
        response: { 200: ClientConfig },
      },
      config: { public: true },
    },
    async (_request, reply) => {
      // It changes only with a new deployment's configuration.
      reply.header('cache-control', 'public, max-age=60');
      return answer;
    },
  );
};
