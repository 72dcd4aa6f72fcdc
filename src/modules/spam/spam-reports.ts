/**
 * Spam reports: the ledger in the database is the truth; the counter at
 * `msg:spam-reports:uid:<sender>` (a plain integer, in Redis or in-process) is derived from it.
 * This is the only file that knows the key names or talks to Redis.
 *
 * Counter writes carry the ledger's version for that sender and are applied only when newer, in
 * one Lua call per batch, so retries, races and rebuilds can never double-count or go backwards.
 */
import { Redis, type Result } from 'ioredis';
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { DialectName } from '../../db/create-db.js';
import type { Database } from '../../db/database.js';
import { failFastRedisOptions } from '../../redis-options.js';
import {
  topReportedSenders,
  unexpiredCounters,
  type CounterState,
  type LedgerChanges,
  type ReportPair,
  recordReportChanges,
} from './spam-ledger.repository.js';

export type { CounterState, LedgerChanges, ReportPair };

const COUNTER_KEY = 'msg:spam-reports:uid:';
const VERSION_KEY = 'msg:spam-reports-version:uid:';

function counterKey(senderId: number): string {
  return `${COUNTER_KEY}${senderId}`;
}

function versionKey(senderId: number): string {
  return `${VERSION_KEY}${senderId}`;
}

/**
 * KEYS: counter and version key per sender; ARGV: reporters, version, expiry (epoch ms) per sender.
 * A write applies when its version is at least the stored one (equal: a rebuild repairing the value).
 * A counter that falls to zero is deleted; its version stays so an older write cannot revive it.
 */
const PUBLISH_COUNTERS_LUA = `
local applied = 0
for i = 1, #KEYS, 2 do
  local base = (i - 1) / 2 * 3
  local reporters = tonumber(ARGV[base + 1])
  local version = tonumber(ARGV[base + 2])
  local expireAt = ARGV[base + 3]
  local stored = tonumber(redis.call('GET', KEYS[i + 1]) or '-1')
  if version >= stored then
    if reporters > 0 then
      redis.call('SET', KEYS[i], reporters, 'PXAT', expireAt)
    else
      redis.call('DEL', KEYS[i])
    end
    redis.call('SET', KEYS[i + 1], version, 'PXAT', expireAt)
    applied = applied + 1
  end
end
return applied
`;

/**
 * KEYS: counter and version key per sender. Deletes counters that no version key vouches for:
 * written by something other than this service (such as the original's per-message counts).
 */
const PRUNE_UNVERSIONED_LUA = `
local removed = 0
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then
    removed = removed + redis.call('DEL', KEYS[i])
  end
end
return removed
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    publishSpamCounters(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Result<number, Context>;
    pruneUnversionedCounters(numberOfKeys: number, ...keys: string[]): Result<number, Context>;
  }
}

/** Where counters live: Redis, or this process when no Redis is configured. */
interface CounterStore {
  publish(counters: CounterState[], now: number): Promise<void>;
  read(senderId: number): Promise<number>;
  /** Removes counters of senders the ledger does not know, unless a newer write vouches for them. */
  prune(known: Set<number>): Promise<void>;
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<number, { reporters: number; version: number; expiresAt: number }>();

  async publish(counters: CounterState[], now: number): Promise<void> {
    for (const counter of counters) {
      const stored = this.counters.get(counter.senderId);
      const storedVersion = stored && stored.expiresAt > now ? stored.version : -1;
      if (counter.version >= storedVersion) this.counters.set(counter.senderId, { ...counter });
    }
  }

  async read(senderId: number): Promise<number> {
    const stored = this.counters.get(senderId);
    return stored && stored.expiresAt > Date.now() ? stored.reporters : 0;
  }

  async prune(): Promise<void> {
    // Every in-process counter was written by publish(), so each has a version: nothing to prune.
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}

const PUBLISH_CHUNK = 500;
/** Reconciliation retries after a failed counter write: 1 s, doubling up to 30 s. */
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30_000;

class RedisCounterStore implements CounterStore {
  constructor(
    readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {
    redis.defineCommand('publishSpamCounters', { lua: PUBLISH_COUNTERS_LUA });
    redis.defineCommand('pruneUnversionedCounters', { lua: PRUNE_UNVERSIONED_LUA });
  }

  async publish(counters: CounterState[]): Promise<void> {
    for (let start = 0; start < counters.length; start += PUBLISH_CHUNK) {
      const chunk = counters.slice(start, start + PUBLISH_CHUNK);
      const keys = chunk.flatMap((counter) => [counterKey(counter.senderId), versionKey(counter.senderId)]);
      const args = chunk.flatMap((counter) => [counter.reporters, counter.version, counter.expiresAt]);
      await this.redis.publishSpamCounters(keys.length, ...keys, ...args);
    }
  }

  async read(senderId: number): Promise<number> {
    return Number((await this.redis.get(counterKey(senderId))) ?? 0);
  }

  async prune(known: Set<number>): Promise<void> {
    // SCAN does not apply ioredis' keyPrefix, so match and strip it by hand.
    const pattern = `${this.keyPrefix}${COUNTER_KEY}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      const unknown = keys
        .map((key) => Number(key.slice(this.keyPrefix.length + COUNTER_KEY.length)))
        .filter((senderId) => !known.has(senderId));
      const pairs = unknown.flatMap((senderId) => [counterKey(senderId), versionKey(senderId)]);
      if (pairs.length > 0) await this.redis.pruneUnversionedCounters(pairs.length, ...pairs);
    } while (cursor !== '0');
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export interface SpamReportsOptions {
  db: Kysely<Database>;
  dialect: DialectName;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  ttlSeconds: number;
  redisTimeoutMs?: number;
  /** Reconcile counters with the ledger on every (re)connection to Redis; the rebuild command turns it off. */
  reconcileOnConnect?: boolean;
  log: FastifyBaseLogger;
  /** Told what happened, for metrics; every method is called after the fact and must not throw. */
  observer?: SpamReportsObserver;
}

export interface SpamReportsObserver {
  /** reports newly recorded in the ledger (committed) */
  onReportsRecorded?(count: number): void;
  /** reports withdrawn from the ledger (committed) */
  onReportsWithdrawn?(count: number): void;
  /** every counter was recomputed from the ledger (at start, on reconnect, or by the rebuild command) */
  onRebuild?(): void;
  /** a Redis connection error or a failed Redis command */
  onRedisError?(): void;
}

/**
 * The intent-level face of spam reporting. Inside the batch transaction: `recordInLedger`;
 * after it commits: `publish`. A publish that fails (Redis down) is reconciled from the ledger
 * as soon as Redis is ready again, so a counter never drifts for good.
 */
export class SpamReports {
  private readonly store: CounterStore;
  private readonly ttlMs: number;
  private reconciling: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = FIRST_RETRY_MS;
  private closed = false;

  constructor(private readonly options: SpamReportsOptions) {
    this.ttlMs = options.ttlSeconds * 1000;
    if (options.redisUrl) {
      // Fail fast while disconnected instead of queueing: the ledger keeps the truth meanwhile.
      const redis = new Redis(options.redisUrl, failFastRedisOptions(options.redisKeyPrefix, options.redisTimeoutMs ?? 2000));
      redis.on('error', (error: Error) => {
        options.observer?.onRedisError?.();
        options.log.warn({ err: error }, 'redis error');
      });
      // On every (re)connection, bring the counters back in line with the ledger.
      if (options.reconcileOnConnect ?? true) redis.on('ready', () => void this.reconcile());
      this.store = new RedisCounterStore(redis, options.redisKeyPrefix);
    } else {
      // In-process counters start empty: fill them from the ledger.
      this.store = new MemoryCounterStore();
      void this.reconcile();
    }
  }

  get usesRedis(): boolean {
    return this.store instanceof RedisCounterStore;
  }

  /** Waits until Redis accepts commands (at once for in-process counters). */
  async connected(timeoutMs = 5000): Promise<void> {
    if (!(this.store instanceof RedisCounterStore)) return;
    const redis = this.store.redis;
    if (redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Writes reports and withdrawals to the ledger, in the caller's transaction. */
  recordInLedger(trx: Kysely<Database>, changes: { reports: ReportPair[]; withdrawals: ReportPair[] }): Promise<LedgerChanges> {
    return recordReportChanges(trx, this.options.dialect, changes, Date.now(), this.ttlMs);
  }

  /** After the ledger changes committed: brings the counters in line with them; failures are reconciled later. */
  async publish(changes: LedgerChanges): Promise<void> {
    const { observer } = this.options;
    if (changes.recorded > 0) observer?.onReportsRecorded?.(changes.recorded);
    if (changes.withdrawn > 0) observer?.onReportsWithdrawn?.(changes.withdrawn);
    if (changes.counters.length === 0) return;
    try {
      await this.store.publish(changes.counters, Date.now());
    } catch (error) {
      if (this.usesRedis) observer?.onRedisError?.();
      this.options.log.warn({ err: error }, 'spam counters not published; they will be reconciled when Redis is back');
      this.scheduleReconcile();
    }
  }

  /** How many distinct users currently report this sender (the counter; 0 when absent). */
  reportedBy(senderId: number): Promise<number> {
    return this.store.read(senderId);
  }

  /** The senders reported by the most distinct users right now, from the ledger. */
  async mostReported(limit: number): Promise<{ senderId: number; reportedBy: number }[]> {
    const counters = await topReportedSenders(this.options.db, Date.now(), limit);
    return counters.map((counter) => ({ senderId: counter.senderId, reportedBy: counter.reporters }));
  }

  /**
   * Recomputes every counter (value and remaining expiry) from the ledger. With `prune`, also
   * removes counters the ledger knows nothing of (the rebuild command does; reconnects do not).
   * Returns how many senders are currently reported.
   */
  async rebuildCounters({ prune = false } = {}): Promise<number> {
    const counters = await unexpiredCounters(this.options.db, Date.now());
    await this.store.publish(counters, Date.now());
    if (prune) await this.store.prune(new Set(counters.map((counter) => counter.senderId)));
    this.options.observer?.onRebuild?.();
    return counters.filter((counter) => counter.reporters > 0).length;
  }

  /** Resolves when the counter store answers (Redis PING, within REDIS_TIMEOUT_MS); rejects otherwise. */
  async ping(): Promise<void> {
    try {
      await this.store.ping();
    } catch (error) {
      this.options.observer?.onRedisError?.();
      throw error;
    }
  }

  private reconcile(): Promise<void> {
    this.reconciling ??= this.rebuildCounters()
      .then((count) => {
        this.retryDelayMs = FIRST_RETRY_MS;
        this.options.log.info({ counters: count }, 'spam counters reconciled with the ledger');
      })
      .catch((error: unknown) => {
        this.options.log.warn({ err: error }, 'spam counter reconciliation failed; retrying');
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, LAST_RETRY_MS);
        this.scheduleReconcile();
      })
      .finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  /**
   * A write that failed without the connection dropping (a hung or slow Redis) brings no 'ready'
   * event, so reconcile on a timer too, backing off while Redis keeps failing.
   */
  private scheduleReconcile(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.reconcile();
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  /** Resolves once a reconciliation in progress (e.g. at start) has finished. */
  async settled(): Promise<void> {
    await this.reconciling;
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    return this.store.close();
  }
}
