/**
 * Who is calling, and what they may do: the one place that decides authorization.
 *
 * Each request carries `callerId` (a user id, or undefined for an anonymous caller). off: never set,
 * every request is anonymous, exactly as the original. optional: a valid bearer token sets it; no
 * token stays anonymous. required: routes not marked `config: { public: true }` refuse requests
 * without a valid token. A token that is present but invalid is a 401 in both modes.
 *
 * Every other route declares who may call it in `config.access`, and a route that declares nothing
 * stops the start, so a new route cannot forget. With a known caller:
 * - `caller`: anyone the mode lets in (the route scopes its data to the caller itself);
 * - `{ self: 'path' }` / `{ self: 'body' }`: only the user named by the path's `user_id` or the body's
 *   `from_userid` (403 otherwise), checked after validation and before anything else the route does;
 * - `moderator`: only the users in MODERATOR_EMAILS (403 otherwise).
 * Anonymous callers pass every check, as every route of the original lets them.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { AuthMode } from '../config.js';
import { NotAllowed, NotAuthenticated } from '../errors.js';
import type { AccessTokens } from '../modules/auth/tokens.js';
import { findEmailKey, isActiveUser } from '../modules/users/users.repository.js';

/** Where the user a route acts for is named: the path's `user_id`, or the body's `from_userid`. */
export type ActingUser = 'path' | 'body';

export type Access = 'caller' | 'moderator' | { self: ActingUser };

declare module 'fastify' {
  interface FastifyRequest {
    /** the authenticated user's id; undefined when the caller is anonymous (or AUTH_MODE is off) */
    callerId: number | undefined;
    /** when the caller's token expires (epoch ms); undefined for anonymous callers */
    tokenExpiresAt: number | undefined;
  }
  interface FastifyContextConfig {
    /** reachable without a token even when AUTH_MODE is required (sign-up, login, docs, health) */
    public?: boolean;
    /** who may call a route that is not public (see the auth plugin) */
    access?: Access;
  }
}

export interface AuthPluginOptions {
  mode: AuthMode;
  /** required unless mode is off */
  tokens: AccessTokens | undefined;
  /** normalised (normalizeEmail); from MODERATOR_EMAILS */
  moderatorEmails: readonly string[];
}

const BEARER = /^Bearer(?:\s+(.*))?$/i;

/** The token of an `Authorization: Bearer …` header; undefined when there is no such header (another scheme counts as none). */
function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = BEARER.exec(header.trim());
  return match ? (match[1] ?? '').trim() : undefined;
}

function actingUserOf(request: FastifyRequest, where: ActingUser): unknown {
  const source = (where === 'path' ? request.params : request.body) as Record<string, unknown> | undefined;
  return source?.[where === 'path' ? 'user_id' : 'from_userid'];
}

async function authPlugin(app: FastifyInstance, options: AuthPluginOptions) {
  app.decorateRequest('callerId', undefined);
  app.decorateRequest('tokenExpiresAt', undefined);
  const { mode, tokens } = options;
  const moderators = new Set(options.moderatorEmails);

  // Every route declares who may call it; checked once all routes (and other plugins' onRoute changes) are in.
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => void routes.push(route));
  app.addHook('onReady', async () => {
    const undeclared = routes.filter((route) => !route.config?.public && !route.config?.access);
    if (undeclared.length > 0) {
      const names = undeclared.map((route) => `${String(route.method)} ${route.url}`).join(', ');
      throw new Error(`routes without an access policy (config.access or config.public): ${names}`);
    }
  });
  if (mode === 'off') return;
  if (!tokens) throw new Error('auth plugin: tokens are required when AUTH_MODE is not off');

  const isModerator = async (callerId: number) => moderators.has((await findEmailKey(app.db, callerId)) ?? '');

  /** The check a route's access policy needs after validation; undefined when there is none to make. */
  function accessCheck(access: Access | undefined) {
    if (access === undefined || access === 'caller') return undefined;
    if (access === 'moderator') {
      return async (request: FastifyRequest) => {
        if (request.callerId !== undefined && !(await isModerator(request.callerId))) throw new NotAllowed();
      };
    }
    return async (request: FastifyRequest) => {
      if (request.callerId !== undefined && actingUserOf(request, access.self) !== request.callerId) throw new NotAllowed();
    };
  }
  app.addHook('onRoute', (route) => {
    const check = accessCheck(route.config?.access);
    if (check) route.preHandler = [check, ...(route.preHandler ? [route.preHandler].flat() : [])];
  });

  app.addHook('onRequest', async (request) => {
    // Unknown routes keep answering 404/405; public routes do not look at tokens at all.
    if (request.is404 || request.routeOptions.config.public) return;
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      if (mode === 'required') throw new NotAuthenticated();
      return;
    }
    const claims = token === '' ? undefined : await tokens.claimsOf(token);
    // A valid signature is not enough: the user it names must still exist and be active.
    if (claims === undefined || !(await isActiveUser(app.db, claims.userId))) throw new NotAuthenticated();
    request.callerId = claims.userId;
    request.tokenExpiresAt = claims.expiresAt;
  });

  // What a known caller is shown is theirs alone: no shared cache may keep it.
  app.addHook('onSend', async (request, reply) => {
    if (request.callerId !== undefined) reply.header('cache-control', 'no-store');
  });
}

export default fp(authPlugin, { name: 'auth', dependencies: ['db'] });
