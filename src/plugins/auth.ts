/**
 * Who is calling: each request carries `callerId` (a user id, or undefined for an anonymous caller).
 * off: never set, every request is anonymous, exactly as the original. optional: a valid bearer token
 * sets it; no token stays anonymous. required: routes not marked `config: { public: true }` refuse
 * requests without a valid token. A token that is present but invalid is a 401 in both modes.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AuthMode } from '../config.js';
import { NotAuthenticated } from '../errors.js';
import type { AccessTokens } from '../modules/auth/tokens.js';
import { isActiveUser } from '../modules/users/users.repository.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the authenticated user's id; undefined when the caller is anonymous (or AUTH_MODE is off) */
    callerId: number | undefined;
  }
  interface FastifyContextConfig {
    /** reachable without a token even when AUTH_MODE is required (sign-up, login, docs, health) */
    public?: boolean;
  }
}

export interface AuthPluginOptions {
  mode: AuthMode;
  /** required unless mode is off */
  tokens: AccessTokens | undefined;
}

const BEARER = /^Bearer(?:\s+(.*))?$/i;

/** The token of an `Authorization: Bearer …` header; undefined when there is no such header (another scheme counts as none). */
function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = BEARER.exec(header.trim());
  return match ? (match[1] ?? '').trim() : undefined;
}

async function authPlugin(app: FastifyInstance, options: AuthPluginOptions) {
  app.decorateRequest('callerId', undefined);
  const { mode, tokens } = options;
  if (mode === 'off') return;
  if (!tokens) throw new Error('auth plugin: tokens are required when AUTH_MODE is not off');

  app.addHook('onRequest', async (request) => {
    // Unknown routes keep answering 404/405; public routes do not look at tokens at all.
    if (request.is404 || request.routeOptions.config.public) return;
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      if (mode === 'required') throw new NotAuthenticated();
      return;
    }
    const userId = token === '' ? undefined : await tokens.userIdOf(token);
    // A valid signature is not enough: the user it names must still exist and be active.
    if (userId === undefined || !(await isActiveUser(app.db, userId))) throw new NotAuthenticated();
    request.callerId = userId;
  });

  // What a known caller is shown is theirs alone: no shared cache may keep it.
  app.addHook('onSend', async (request, reply) => {
    if (request.callerId !== undefined) reply.header('cache-control', 'no-store');
  });
}

export default fp(authPlugin, { name: 'auth', dependencies: ['db'] });
