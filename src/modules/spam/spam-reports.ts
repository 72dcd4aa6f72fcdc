/**
 * Spam reports: the ledger in the database is the truth (who reports whom, and per sender a count,
 * a version and an expiry); the Redis counter `msg:spam-reports:uid:<sender>` mirrors it for other
 * systems (counter-store.ts). Reads (the moderation views) come from the ledger, so they answer
 * whatever state Redis is in. Without REDIS_URL there is no mirror: the ledger alone.
 *
 * The mirror heals itself: a write that fails is redone by a reconciliation (on every reconnect, and
 * on a backoff timer for a Redis that hangs); a write Redis refuses as older than what it holds is
 * checked against the ledger, and where Redis is ahead of it (a database restored from a backup) the
 * ledger wins; a Redis that last mirrored another database is rebuilt whole, stale keys removed.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import { failFastRedisOptions } from '../../redis-options.js';
import { RedisCounterStore } from './counter-store.js';
import {
  countersOf,
  currentReporters,
  databaseGeneration,
  topReportedSenders,
  unexpiredCounters,
  type CounterState,
  type LedgerChanges,
  type ReportPair,
  recordReportChanges,
} from './spam-ledger.repository.js';

export type { CounterState, LedgerChanges, ReportPair };

/** Reconciliation retries after a failed counter write: 1 s, doubling up to 30 s. */
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30_000;
/** How long refused counter writes gather before one ledger read settles them all. */
const SETTLE_DELAY_MS = 100;

/** What the spam reports take from the configuration; spamReportsSettings(config) reads it. */
export interface SpamReportsSettings {
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  redisTimeoutMs: number;
  ttlSeconds: number;
}

export function spamReportsSettings(config: Config): SpamReportsSettings {
  return {
    redisUrl: config.redisUrl,
    redisKeyPrefix: config.redisKeyPrefix,
    redisTimeoutMs: config.redisTimeoutMs,
    ttlSeconds: config.spamReportTtlSeconds,
  };
}

export interface SpamReportsOptions extends SpamReportsSettings {
  db: Kysely<Database>;
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

/** `<generation>:<version>` as the version key holds it; undefined for anything else. */
function parseVersion(raw: string): { generation: string; version: number } | undefined {
  const match = /^(.*):(\d+)$/.exec(raw);
  return match ? { generation: match[1] ?? '', version: Number(match[2]) } : undefined;
}

/**
 * The intent-level face of spam reporting. Inside the batch transaction: `recordInLedger`;
 * after it commits: `publish`.
 */
export class SpamReports {
  private readonly store: RedisCounterStore | undefined;
  private readonly ttlMs: number;
  private generation: Promise<string> | undefined;
  private reconciling: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = FIRST_RETRY_MS;
  private closed = false;
  private readonly refusedSenders = new Set<number>();
  private settleTimer: NodeJS.Timeout | undefined;
  private settling: Promise<void> | undefined;
  private readonly pendingCounters = new Map<number, CounterState>();
  private pendingMirror: Promise<void> | undefined;
  /** The script call on its way to Redis, if any: settles with undefined, or with its failure (never rejects). */
  private mirrorInFlight: Promise<{ failed: unknown } | undefined> | undefined;

  constructor(private readonly options: SpamReportsOptions) {
    this.ttlMs = options.ttlSeconds * 1000;
    if (!options.redisUrl) return;
    // Fail fast while disconnected instead of queueing: the ledger keeps the truth meanwhile.
    const redis = new Redis(options.redisUrl, failFastRedisOptions(options.redisKeyPrefix, options.redisTimeoutMs));
    redis.on('error', (error: Error) => {
      options.observer?.onRedisError?.();
      options.log.warn({ err: error }, 'redis error');
    });
    // On every (re)connection, bring the counters back in line with the ledger.
    if (options.reconcileOnConnect ?? true) redis.on('ready', () => void this.reconcile());
    this.store = new RedisCounterStore(redis, options.redisKeyPrefix);
  }

  get usesRedis(): boolean {
    return this.store !== undefined;
  }

  /** Waits until Redis accepts commands (at once without Redis). */
  async connected(timeoutMs = 5000): Promise<void> {
    const redis = this.store?.redis;
    if (!redis || redis.status === 'ready') return;
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
    return recordReportChanges(trx, changes, Date.now(), this.ttlMs);
  }

  /** After the ledger changes committed: brings the counters in line with them; failures are reconciled later. */
  async publish(changes: LedgerChanges): Promise<void> {
    const { observer } = this.options;
    if (changes.recorded > 0) observer?.onReportsRecorded?.(changes.recorded);
    if (changes.withdrawn > 0) observer?.onReportsWithdrawn?.(changes.withdrawn);
    if (!this.store || changes.counters.length === 0) return;
    try {
      await this.mirrorWithOthers(this.store, changes.counters);
    } catch (error) {
      observer?.onRedisError?.();
      this.options.log.warn({ err: error }, 'spam counters not published; they will be reconciled when Redis is back');
      this.scheduleReconcile();
    }
  }

  /** How many distinct users currently report this sender, from the ledger (0 when none). */
  reportedBy(senderId: number): Promise<number> {
    return currentReporters(this.options.db, senderId, Date.now());
  }

  /** The senders reported by the most distinct users right now, from the ledger. */
  async mostReported(limit: number): Promise<{ senderId: number; reportedBy: number }[]> {
    const counters = await topReportedSenders(this.options.db, Date.now(), limit);
    return counters.map((counter) => ({ senderId: counter.senderId, reportedBy: counter.reporters }));
  }

  /**
   * Writes every counter (value and remaining expiry) from the ledger to Redis, the ledger winning
   * wherever Redis is ahead of it. With `prune`, also removes every counter the ledger does not
   * stand behind and records that Redis now mirrors this database. Returns how many senders are
   * currently reported.
   */
  async rebuildCounters({ prune = false } = {}): Promise<number> {
    const counters = await unexpiredCounters(this.options.db, Date.now());
    if (this.store) {
      await this.mirror(this.store, counters);
      if (prune) {
        const removed = await this.removeUnknown(this.store, new Set(counters.map((counter) => counter.senderId)));
        await this.store.markMirrored(await this.databaseGeneration());
        if (removed > 0) this.options.log.info({ removed }, 'spam counters: removed counters the ledger does not stand behind');
      }
    }
    this.options.observer?.onRebuild?.();
    return counters.filter((counter) => counter.reporters > 0).length;
  }

  /** Resolves when the counter store answers (Redis PING, within REDIS_TIMEOUT_MS); rejects otherwise. */
  async ping(): Promise<void> {
    try {
      await this.store?.ping();
    } catch (error) {
      this.options.observer?.onRedisError?.();
      throw error;
    }
  }

  private databaseGeneration(): Promise<string> {
    this.generation ??= databaseGeneration(this.options.db).catch((error: unknown) => {
      this.generation = undefined;
      throw error;
    });
    return this.generation;
  }

  /** Publishes counters; those Redis refuses as older are settled against a fresh read of the ledger. */
  private async mirror(store: RedisCounterStore, counters: readonly CounterState[]): Promise<void> {
    const generation = await this.databaseGeneration();
    const refused = await store.publish(generation, counters);
    if (refused.length > 0) await this.settleRefused(store, generation, refused.map((write) => write.senderId));
  }

  /**
   * Counters go to Redis in one script call at a time, the newest version of each sender's: those of
   * every request that publishes in this turn of the event loop, and of every request that publishes
   * while the call before is on its way, go together in the next. Each request's answer waits for the
   * call that carries its counters. A call costs the service about 45 µs of CPU with ten senders, and a
   * bare PING 25 (measured alone): the round trip, more than the counters, so under load one call serves
   * many requests. When the call before fails (Redis down, or hung past REDIS_TIMEOUT_MS), the counters
   * gathered behind it are not sent: their requests are told at once, and the reconciliation that
   * failure starts writes them, so no request waits out two timeouts.
   */
  private mirrorWithOthers(store: RedisCounterStore, counters: readonly CounterState[]): Promise<void> {
    for (const counter of counters) {
      const pending = this.pendingCounters.get(counter.senderId);
      if (pending === undefined || pending.version < counter.version) this.pendingCounters.set(counter.senderId, counter);
    }
    this.pendingMirror ??= Promise.all([new Promise((resolve) => setImmediate(resolve)), this.mirrorInFlight]).then(([, before]) => {
      const batch = [...this.pendingCounters.values()];
      this.pendingCounters.clear();
      this.pendingMirror = undefined;
      if (before !== undefined) throw new Error('spam counters not sent: the Redis call before them failed', { cause: before.failed });
      const call = this.mirrorAfterRequest(store, batch);
      const inFlight = call.then(
        () => undefined,
        (failed: unknown) => ({ failed }),
      );
      this.mirrorInFlight = inFlight;
      void inFlight.then(() => {
        if (this.mirrorInFlight === inFlight) this.mirrorInFlight = undefined;
      });
      return call;
    });
    return this.pendingMirror;
  }

  /**
   * After a request: refusals are mostly two requests' writes crossing on the way to Redis, so they
   * are settled together a moment later, one ledger read for all, instead of one read per request.
   */
  private async mirrorAfterRequest(store: RedisCounterStore, counters: readonly CounterState[]): Promise<void> {
    const refused = await store.publish(await this.databaseGeneration(), counters);
    for (const write of refused) this.refusedSenders.add(write.senderId);
    if (refused.length === 0 || this.settleTimer || this.closed) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      const senderIds = [...this.refusedSenders];
      this.refusedSenders.clear();
      this.settling = this.databaseGeneration()
        .then((generation) => this.settleRefused(store, generation, senderIds))
        .catch((error: unknown) => {
          this.options.log.warn({ err: error }, 'spam counters: settling refused writes failed; reconciling');
          this.scheduleReconcile();
        })
        .finally(() => (this.settling = undefined));
    }, SETTLE_DELAY_MS);
    this.settleTimer.unref();
  }

  /**
   * Redis refused a write as older than what it holds. Usually another request got there first with
   * a newer version; but if the ledger, read after Redis, is still behind it, Redis is ahead of the
   * database (restored from a backup) and the ledger's value replaces it, unless a write lands meanwhile.
   */
  private async settleRefused(store: RedisCounterStore, generation: string, senderIds: number[]): Promise<void> {
    const seen = await store.versionsOf(senderIds);
    const ledger = await countersOf(this.options.db, senderIds);
    const now = Date.now();
    let repaired = 0;
    for (const senderId of senderIds) {
      const raw = seen.get(senderId) ?? '';
      const stored = parseVersion(raw);
      const truth = ledger.get(senderId);
      const live = truth && truth.expiresAt > now ? truth : undefined;
      const ahead = stored !== undefined && stored.generation === generation && (truth?.version ?? -1) < stored.version;
      if (ahead) {
        if (await store.replaceIfUnchanged(senderId, raw, generation, live)) repaired += 1;
      } else if (live) {
        await store.publish(generation, [live]);
      }
    }
    if (repaired > 0) {
      this.options.log.warn({ repaired }, 'spam counters: Redis was ahead of the database (restored from a backup?); the ledger won');
    }
  }

  /** Removes the counters of senders outside `known` whom the ledger, read after Redis, does not report either. */
  private async removeUnknown(store: RedisCounterStore, known: Set<number>): Promise<number> {
    const generation = await this.databaseGeneration();
    let removed = 0;
    for await (const senders of store.countedSenders()) {
      const candidates = senders.filter((senderId) => !known.has(senderId));
      if (candidates.length === 0) continue;
      const seen = await store.versionsOf(candidates);
      const ledger = await countersOf(this.options.db, candidates);
      const now = Date.now();
      for (const senderId of candidates) {
        const truth = ledger.get(senderId);
        if (truth && truth.expiresAt > now) await store.publish(generation, [truth]);
        else if (await store.replaceIfUnchanged(senderId, seen.get(senderId) ?? '', generation, undefined)) removed += 1;
      }
    }
    return removed;
  }

  /** Mirrors the whole ledger; a Redis that last mirrored another database (or none) is rebuilt whole. */
  private reconcile(): Promise<void> {
    const store = this.store;
    if (!store) return Promise.resolve();
    this.reconciling ??= (async () => {
      const foreign = (await store.mirroredGeneration()) !== (await this.databaseGeneration());
      if (foreign) this.options.log.info('spam counters: Redis does not mirror this database yet; rebuilding it whole');
      return this.rebuildCounters({ prune: foreign });
    })()
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

  /** Resolves once the first connection's reconciliation (or one in progress) has finished; bounded by REDIS_TIMEOUT_MS. */
  async settled(): Promise<void> {
    if (this.store && !this.store.ready) await this.connected(this.options.redisTimeoutMs).catch(() => undefined);
    await this.reconciling;
    await this.settling;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.settleTimer);
    await this.store?.close();
  }
}
