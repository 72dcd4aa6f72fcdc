/**
 * Abuse limits, each a fixed window of one minute (numbers in config.rateLimits; 0 switches one off):
 * - sign-ups per client address;
 * - messages per sender (the caller when known, else from_userid);
 * - failed logins per client address, per (account, address) and per account. Counted narrowest
 *   first, and a refused attempt stops there, so one address can spend at most its own budget of an
 *   account's; a login that succeeds is taken back. The per-account budget is large: strangers
 *   guessing from a few addresses never lock the owner out.
 * Over a limit: `429 {"detail":"Too many requests"}` with Retry-After. Counts live in Redis when
 * REDIS_URL is set (modules/rate-limits), so they hold across instances.
 * The client address is Fastify's request.ip: the socket's, or with TRUST_PROXY what the trusted
 * proxies report; IPv6 clients are counted per /64, the block one subscriber usually has.
 */
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import type { RateLimits } from '../config.js';
import { normalizeEmail } from '../email.js';
import { TooManyRequests } from '../errors.js';
import { MemoryWindowCounter, RedisWindowCounter, type WindowCounter } from '../modules/rate-limits/window-counter.js';
import { failFastRedisOptions } from '../redis-options.js';

/** A route hook that throws TooManyRequests when the request is over the limit (and counts it otherwise). */
export type Limit = (request: FastifyRequest) => Promise<void>;

/** Takes a counted login attempt back; call it when the password was right. */
export type RefundAttempt = () => Promise<void>;

export interface AbuseLimits {
  /** POST /users/, per client address (onRequest) */
  signUpPerAddress: Limit;
  /** POST /msg/create/, per sender (preHandler) */
  messagesPerSender: Limit;
  /** POST /token: counts one attempt for this email from this request's address, or throws TooManyRequests */
  loginAttempt(request: FastifyRequest, email: string): Promise<RefundAttempt>;
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

/** Expands an IPv6 address into its eight 16-bit groups; undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.split('%')[0] ?? '';
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const start = parse(head);
  const end = tail === undefined ? [] : parse(tail);
  const groups = [...start, ...Array<number>(8 - start.length - end.length).fill(0), ...end];
  return groups.length === 8 && groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined;
}

/** The address a limit counts: IPv4 as is (also when mapped into IPv6), IPv6 by its /64. */
export function clientAddressKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (!groups) return ip;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}

/** Accounts are keyed by a digest of the normalised email: no addresses sit in Redis in clear. */
function accountKey(email: string): string {
  return createHash('sha256').update(normalizeEmail(email)).digest('base64url').slice(0, 22);
}

function fieldOf(value: unknown, field: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[field] : undefined;
}

/** Who sends: the caller, else the sender the route names (POST /users/{user_id}/messages, or /msg/create/'s from_userid). */
function senderKey(request: FastifyRequest): string {
  return String(request.callerId ?? fieldOf(request.params, 'user_id') ?? fieldOf(request.body, 'from_userid') ?? '');
}

/** Connects the limits' own Redis client; waits for it at start (bounded) so the first requests are counted there. */
async function connectRedis(app: FastifyInstance, options: RateLimitPluginOptions & { redisUrl: string }): Promise<Redis> {
  const redis = new Redis(options.redisUrl, failFastRedisOptions(options.redisKeyPrefix, options.redisTimeoutMs));
  redis.on('error', (error: Error) => app.log.debug({ err: error }, 'rate limit: redis error'));
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
  const anyLimit = Object.values(limits).some((max) => max > 0);
  const counter: WindowCounter =
    anyLimit && options.redisUrl
      ? new RedisWindowCounter(await connectRedis(app, { ...options, redisUrl: options.redisUrl }), app.log)
      : new MemoryWindowCounter();

  /** Counts a hit on `name:key`; throws when it is over `max`. Answers whether it was counted (max 0: not). */
  async function count(name: string, max: number, key: string): Promise<boolean> {
    if (max === 0) return false;
    const { count: hits, resetInMs } = await counter.hit(`${name}:${key}`, WINDOW_MS);
    if (hits > max) throw new TooManyRequests(resetInMs / 1000);
    return true;
  }

  const address = (request: FastifyRequest) => clientAddressKey(request.ip);

  app.decorate('abuseLimits', {
    signUpPerAddress: async (request) => {
      await count('signup-address', limits.signupPerMinute, address(request));
    },
    messagesPerSender: async (request) => {
      await count('messages-sender', limits.messagesPerMinute, senderKey(request));
    },
    async loginAttempt(request, email) {
      const account = accountKey(email);
      const counted: string[] = [];
      const steps: [string, number, string][] = [
        ['login-address', limits.loginPerAddress, address(request)],
        ['login-account-address', limits.loginPerAccountAndAddress, `${account}:${address(request)}`],
        ['login-account', limits.loginPerAccount, account],
      ];
      for (const [name, max, key] of steps) {
        if (await count(name, max, key)) counted.push(`${name}:${key}`);
      }
      return async () => {
        await Promise.all(counted.map((key) => counter.refund(key)));
      };
    },
  } satisfies AbuseLimits);
}

export default fp(rateLimitPlugin, { name: 'rate-limit' });
