/**
 * Abuse limits through @fastify/rate-limit, one fixed window of a minute each: login attempts per
 * email and per client IP, sign-ups per client IP, messages per sender. Kept in Redis when REDIS_URL
 * is set, so they hold across instances; in this process otherwise. A limit of 0 is switched off.
 * Routes attach the limits they need as hooks; over a limit the hook throws TooManyRequests, which
 * the one error handler answers `429 {"detail":"Too many requests"}` with Retry-After.
 *
 * This is the one use of Redis outside modules/spam, and it is for rate limiting only: a client of
 * its own, keys under REDIS_KEY_PREFIX + `rate-limit:<limit>:`, nothing shared with the spam counters.
 * When Redis is unreachable the limits are skipped rather than failing requests, as the spam counters do.
 */
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import type { RateLimits } from '../config.js';
import { TooManyRequests } from '../errors.js';
import { failFastRedisOptions } from '../redis-options.js';

/** A route hook that throws TooManyRequests when the request is over the limit (and counts it otherwise). */
export type Limit = (request: FastifyRequest) => Promise<void>;

export interface AbuseLimits {
  /** POST /token, per client IP: before anything else (onRequest) */
  tokenPerIp: Limit;
  /** POST /token, per email: after the body is validated (preHandler) */
  tokenPerEmail: Limit;
  /** POST /users/, per client IP (onRequest) */
  signUpPerIp: Limit;
  /** POST /msg/create/, per sender: the caller when known, else from_userid (preHandler) */
  messagesPerSender: Limit;
}

declare module 'fastify' {
  interface FastifyInstance {
    abuseLimits: AbuseLimits;
  }
}

export interface RateLimitPluginOptions {
  limits: RateLimits;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  redisTimeoutMs: number;
}

const WINDOW_MS = 60_000;

type KeyOf = (request: FastifyRequest) => string;

const clientIp: KeyOf = (request) => normalizeIP(request.ip);

function bodyField(request: FastifyRequest, field: string): unknown {
  const body = request.body;
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
}

const loginEmail: KeyOf = (request) => String(bodyField(request, 'email') ?? '').trim().toLowerCase();

const sender: KeyOf = (request) => String(request.callerId ?? bodyField(request, 'from_userid') ?? '');

/** Connects the rate limiter's own client; waits for it at start (bounded) so the first requests are counted. */
async function connectRedis(app: FastifyInstance, options: RateLimitPluginOptions & { redisUrl: string }): Promise<Redis> {
  const redis = new Redis(options.redisUrl, failFastRedisOptions(options.redisKeyPrefix, options.redisTimeoutMs));
  redis.on('error', (error: Error) => app.log.warn({ err: error }, 'rate limit: redis error'));
  app.addHook('onClose', () => redis.quit().then(
    () => undefined,
    () => redis.disconnect(),
  ));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, options.redisTimeoutMs);
    function done() {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    }
    if (redis.status === 'ready') done();
    else redis.on('ready', done);
  });
  return redis;
}

async function rateLimitPlugin(app: FastifyInstance, options: RateLimitPluginOptions) {
  const { limits } = options;
  const anyLimit = limits.tokenPerMinute > 0 || limits.signupPerMinute > 0 || limits.messagesPerMinute > 0;
  const redis = anyLimit && options.redisUrl ? await connectRedis(app, { ...options, redisUrl: options.redisUrl }) : undefined;

  /** One limiter: its own store namespace, so keys read `rate-limit:<name>:<key>`. */
  async function limit(name: string, max: number, keyOf: KeyOf): Promise<Limit> {
    if (max === 0) return async () => {};
    let check: ReturnType<FastifyInstance['createRateLimit']> | undefined;
    await app.register(async (scope) => {
      await scope.register(rateLimit, {
        global: false,
        max,
        timeWindow: WINDOW_MS,
        keyGenerator: keyOf,
        skipOnError: true,
        ...(redis ? { redis, nameSpace: `rate-limit:${name}:` } : {}),
      });
      check = scope.createRateLimit();
    });
    const counted = check;
    if (!counted) throw new Error(`rate limit ${name} was not created`);
    return async (request) => {
      const result = await counted(request);
      if (!result.isAllowed && result.isExceeded) throw new TooManyRequests(result.ttlInSeconds);
    };
  }

  app.decorate('abuseLimits', {
    tokenPerIp: await limit('token-ip', limits.tokenPerMinute, clientIp),
    tokenPerEmail: await limit('token-email', limits.tokenPerMinute, loginEmail),
    signUpPerIp: await limit('signup-ip', limits.signupPerMinute, clientIp),
    messagesPerSender: await limit('messages-sender', limits.messagesPerMinute, sender),
  } satisfies AbuseLimits);
}

export default fp(rateLimitPlugin, { name: 'rate-limit' });
