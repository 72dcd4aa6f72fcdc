/**
 * Fixed-window hit counters for the abuse limits: the only code that knows their Redis keys
 * (`rate-limit:<name>:<key>` under REDIS_KEY_PREFIX) and script. Kept in Redis so the limits hold
 * across instances; in this process without Redis, and also while Redis is unreachable, so a Redis
 * outage weakens the limits to per instance instead of switching them off or failing requests.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis, Result } from 'ioredis';

export interface WindowCount {
  /** hits in the current window, this one included */
  count: number;
  /** milliseconds until the window ends */
  resetInMs: number;
}

export interface WindowCounter {
  /** Counts one hit against `key` in its current window of `windowMs`. */
  hit(key: string, windowMs: number): Promise<WindowCount>;
  /** Takes one hit back (a login that turned out to be the owner's), if the window still holds any. */
  refund(key: string): Promise<void>;
}

/** KEYS[1]: the counter; ARGV[1]: the window in ms. The first hit of a window starts its expiry. */
const HIT_LUA = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

/** KEYS[1]: the counter. Decrements only a live counter above zero, so a refund never creates a key. */
const REFUND_LUA = `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then return redis.call('DECR', KEYS[1]) end
return 0
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    rateLimitHit(key: string, windowMs: number): Result<[number, number], Context>;
    rateLimitRefund(key: string): Result<number, Context>;
  }
}

const KEY_PREFIX = 'rate-limit:';
/** In-process counters kept at most; past it, expired ones are dropped, then the oldest. */
const MAX_MEMORY_KEYS = 100_000;

export class MemoryWindowCounter implements WindowCounter {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      this.windows.delete(key);
      if (this.windows.size >= MAX_MEMORY_KEYS) this.evict(now);
      window = { count: 0, endsAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    return { count: window.count, resetInMs: window.endsAt - now };
  }

  async refund(key: string): Promise<void> {
    const window = this.windows.get(key);
    if (window && window.endsAt > Date.now() && window.count > 0) window.count -= 1;
  }

  private evict(now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
    // Still full: drop the oldest windows (Map iterates in insertion order).
    for (const key of this.windows.keys()) {
      if (this.windows.size < MAX_MEMORY_KEYS) break;
      this.windows.delete(key);
    }
  }
}

/** Counts in Redis; while Redis fails, in this process (and says so once per outage). */
export class RedisWindowCounter implements WindowCounter {
  private readonly fallback = new MemoryWindowCounter();
  private failing = false;

  constructor(
    private readonly redis: Redis,
    private readonly log: FastifyBaseLogger,
  ) {
    redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT_LUA });
    redis.defineCommand('rateLimitRefund', { numberOfKeys: 1, lua: REFUND_LUA });
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    try {
      const [count, resetInMs] = await this.redis.rateLimitHit(KEY_PREFIX + key, windowMs);
      this.recovered();
      return { count, resetInMs };
    } catch (error) {
      this.failed(error);
      return this.fallback.hit(key, windowMs);
    }
  }

  async refund(key: string): Promise<void> {
    try {
      await this.redis.rateLimitRefund(KEY_PREFIX + key);
    } catch (error) {
      this.failed(error);
    }
    await this.fallback.refund(key);
  }

  private failed(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.log.warn({ err: error }, 'rate limits: Redis unavailable, counting in this process until it is back');
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.log.info('rate limits: Redis is back, counting there again');
  }
}
