/**
 * SQL for the spam-report ledger, the truth behind the counters. Called inside the batch
 * update's transaction, after the folder changes, with a constant number of statements.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.js';
import { dialectOf, distinctIds, lockRowsForUpdate, lookupEach } from '../../db/create-db.js';
import { prepared } from '../../db/prepared.js';

type Db = Kysely<Database>;

export interface ReportPair {
  reporterId: number;
  senderId: number;
}

/** What one batch changed in the ledger: the counters that moved, and how many reports were added and withdrawn. */
export interface LedgerChanges {
  counters: CounterState[];
  /** ledger rows inserted (reports that were not already there) */
  recorded: number;
  /** ledger rows removed by withdrawals (not by expiry) */
  withdrawn: number;
}

/** A sender's counter as the ledger has it after a change. */
export interface CounterState {
  senderId: number;
  reporters: number;
  version: number;
  /** epoch milliseconds */
  expiresAt: number;
}

/**
 * Records reports and withdrawals and returns the new state of every counter that changed, with
 * how many reports were recorded and withdrawn.
 * A report already in the ledger changes nothing; a withdrawal only removes a report when none of
 * the reporter's messages from that sender remain in spam.
 */
export async function recordReportChanges(
  db: Db,
  changes: { reports: ReportPair[]; withdrawals: ReportPair[] },
  now: number,
  ttlMs: number,
): Promise<LedgerChanges> {
  const senders = distinctIds([...changes.reports, ...changes.withdrawals].map((pair) => pair.senderId));
  const unchanged: LedgerChanges = { counters: [], recorded: 0, withdrawn: 0 };
  if (senders.length === 0) return unchanged;

  const before = new Map((await lockedCounters(db, senders)).map(toCounterState).map((counter) => [counter.senderId, counter]));
  // When a counter has expired, the reports behind it expire with it.
  const expired = [...before.values()].filter((counter) => counter.expiresAt <= now).map((counter) => counter.senderId);
  if (expired.length > 0) await deleteReportsOf(db, expired);

  // Every report refreshes the sender's expiry, even one already counted: the counter changes below.
  const changed = new Set<number>(changes.reports.map((pair) => pair.senderId));
  // Senders whose reports were added, withdrawn or expired: their counters are counted again.
  const recount = new Set<number>(expired);
  let recorded = 0;
  let withdrawn = 0;
  if (changes.reports.length > 0) {
    const inserted = await insertReports(db, changes.reports.flatMap(pairColumns), now);
    inserted.forEach((row) => recount.add(row.sender_id));
    recorded = inserted.length;
  }
  if (changes.withdrawals.length > 0) {
    const removed = await deleteWithdrawnReports(db, changes.withdrawals.flatMap(pairColumns));
    removed.forEach((row) => {
      changed.add(row.sender_id);
      recount.add(row.sender_id);
    });
    withdrawn = removed.length;
  }
  if (changed.size === 0) return unchanged;

  // Each change bumps the version (so counter writes apply in order) and restarts the expiry. A report
  // already in the ledger changes no count, so its counter is only refreshed (a repeated report is the
  // common case, and counting the ledger again costs more than the rest of the batch's statements);
  // its new state is known without reading it back, the row being locked.
  // (No RETURNING: on SQLite, `update … returning` of ten counters cost 22 µs, the update alone 4.)
  const expiresAt = now + ttlMs;
  const recounted = [...changed].filter((sender) => recount.has(sender));
  const refreshed = [...changed].filter((sender) => !recount.has(sender));
  const counters: CounterState[] = [];
  if (recounted.length > 0) {
    await recountCounters(db, recounted, expiresAt);
    for (const row of await readCounters(db, recounted)) counters.push(toCounterState(row));
  }
  if (refreshed.length > 0) {
    await refreshCounters(db, refreshed, expiresAt);
    for (const senderId of refreshed) {
      const counter = before.get(senderId);
      if (counter === undefined) throw new Error(`spam ledger: the counter of sender ${senderId} vanished inside its transaction`);
      counters.push({ senderId, reporters: counter.reporters, version: counter.version + 1, expiresAt });
    }
  }
  return { counters, recorded, withdrawn };
}

/**
 * The senders' counters as they are, locked, each created first if the sender has none yet.
 * PostgreSQL: ledger changes serialise per sender across connections, so the counts read after this
 * see every committed report. Its counters are created before any is locked, all in the same order,
 * as every transaction does, so two transactions never wait for each other's locks and inserts in a
 * circle. SQLite's writers are serialised by BEGIN IMMEDIATE already, so a read that finds every
 * counter (every sender reported before: nearly always) needs no insert; one that does not inserts the
 * missing ones and reads again.
 */
async function lockedCounters(db: Db, senders: readonly number[]): Promise<CounterRow[]> {
  if (dialectOf(db) === 'sqlite') {
    const rows = await readCounters(db, senders);
    if (rows.length === senders.length) return rows;
  }
  await ensureCounters(db, senders);
  return readCounters(db, senders);
}

/** A counter's row, as readCounters reads it. */
type CounterRow = Awaited<ReturnType<typeof readCounters>>[number];

/** A pair as two values, reporter then sender (the prepared statements below take pairs flat). */
const pairColumns = (pair: ReportPair): number[] => [pair.reporterId, pair.senderId];

function pairsOf(flat: readonly number[]): ReportPair[] {
  const pairs = [];
  for (let index = 0; index < flat.length; index += 2) pairs.push({ reporterId: flat[index] ?? 0, senderId: flat[index + 1] ?? 0 });
  return pairs;
}

const ensureCounters = prepared((db: Db, senders: readonly number[]) =>
  db
    .insertInto('spam_counters')
    .values(senders.map((senderId) => ({ sender_id: senderId, reporters: 0, version: 0, expires_at: 0 })))
    .onConflict((conflict) => conflict.column('sender_id').doNothing()),
);

/**
 * Counters as they are (the senders distinct), in sender order; locked for the transaction's end on
 * PostgreSQL. SQLite's writers are serialised already, and it looks each one up (lookupEach).
 */
async function readCounters(db: Db, senders: readonly number[]) {
  return dialectOf(db) === 'sqlite' ? readCountersEach(db, distinctIds(senders)) : readCountersLocked(db, senders);
}

const COUNTER_COLUMNS = ['sender_id', 'reporters', 'version', 'expires_at'] as const;
const readCountersLocked = prepared((db: Db, senders: readonly number[]) =>
  lockRowsForUpdate(db, db.selectFrom('spam_counters').select(COUNTER_COLUMNS).where('sender_id', 'in', senders).orderBy('sender_id')),
);
const readCountersEach = prepared((db: Db, senders: readonly number[]) =>
  lookupEach(senders, (sender) => db.selectFrom('spam_counters').select(COUNTER_COLUMNS).where('sender_id', '=', sender)),
);

/** The reports behind counters that have expired. */
const deleteReportsOf = prepared((db: Db, senders: readonly number[]) => db.deleteFrom('spam_reports').where('sender_id', 'in', senders));

const insertReports = prepared((db: Db, pairs: readonly number[], now: number) =>
  db
    .insertInto('spam_reports')
    .values(pairsOf(pairs).map((pair) => ({ reporter_id: pair.reporterId, sender_id: pair.senderId, reported_at: now })))
    .onConflict((conflict) => conflict.columns(['sender_id', 'reporter_id']).doNothing())
    .returning('sender_id'),
);

/** A withdrawal only removes a report when none of the reporter's messages from that sender remain in spam. */
const deleteWithdrawnReports = prepared((db: Db, pairs: readonly number[]) =>
  db
    .deleteFrom('spam_reports')
    .where(({ eb, refTuple, tuple }) =>
      eb(
        refTuple('reporter_id', 'sender_id'),
        'in',
        pairsOf(pairs).map((pair) => tuple(pair.reporterId, pair.senderId)),
      ),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('messages')
            .select(sql`1`.as('one'))
            .whereRef('messages.to_userid', '=', 'spam_reports.reporter_id')
            .whereRef('messages.from_userid', '=', 'spam_reports.sender_id')
            .where('messages.folder', '=', 'spam'),
        ),
      ),
    )
    .returning('sender_id'),
);

const recountCounters = prepared((db: Db, senders: readonly number[], expiresAt: number) =>
  db
    .updateTable('spam_counters')
    .set((eb) => ({
      reporters: eb
        .selectFrom('spam_reports')
        .select((count) => count.fn.countAll<number>().as('n'))
        .whereRef('spam_reports.sender_id', '=', 'spam_counters.sender_id'),
      version: eb('version', '+', 1),
      expires_at: expiresAt,
    }))
    .where('sender_id', 'in', senders),
);

/** A counter whose reports did not change: a new version and expiry, the same count. */
const refreshCounters = prepared((db: Db, senders: readonly number[], expiresAt: number) =>
  db
    .updateTable('spam_counters')
    .set((eb) => ({ version: eb('version', '+', 1), expires_at: expiresAt }))
    .where('sender_id', 'in', senders),
);

function toCounterState(row: CounterRow): CounterState {
  return {
    senderId: row.sender_id,
    reporters: Number(row.reporters),
    version: Number(row.version),
    expiresAt: Number(row.expires_at),
  };
}

/** These senders' counters as the ledger has them now, expired ones included (undefined: never reported). */
export async function countersOf(db: Db, senderIds: readonly number[]): Promise<Map<number, CounterState>> {
  if (senderIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('spam_counters')
    .select(['sender_id', 'reporters', 'version', 'expires_at'])
    .where('sender_id', 'in', [...senderIds])
    .execute();
  return new Map(rows.map((row) => [Number(row.sender_id), toCounterState(row)]));
}

/** How many distinct users report this sender right now (0 when none, or when the reports expired). */
export async function currentReporters(db: Db, senderId: number, now: number): Promise<number> {
  const row = await db
    .selectFrom('spam_counters')
    .select('reporters')
    .where('sender_id', '=', senderId)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(row?.reporters ?? 0);
}

/** This database's generation (migration 0004), which the Redis counters carry beside their versions. */
export async function databaseGeneration(db: Db): Promise<string> {
  const row = await db.selectFrom('settings').select('value').where('name', '=', 'database_generation').executeTakeFirstOrThrow();
  return row.value;
}

/** Every counter that has not expired (including those that fell to zero), for a rebuild. */
export async function unexpiredCounters(db: Db, now: number): Promise<CounterState[]> {
  const rows = await db
    .selectFrom('spam_counters')
    .select(['sender_id', 'reporters', 'version', 'expires_at'])
    .where('expires_at', '>', now)
    .orderBy('sender_id')
    .execute();
  return rows.map(toCounterState);
}

/** The senders reported by the most distinct users right now. */
export async function topReportedSenders(db: Db, now: number, limit: number): Promise<CounterState[]> {
  const rows = await db
    .selectFrom('spam_counters')
    .select(['sender_id', 'reporters', 'version', 'expires_at'])
    .where('expires_at', '>', now)
    .where('reporters', '>', 0)
    .orderBy('reporters', 'desc')
    .orderBy('sender_id')
    .limit(limit)
    .execute();
  return rows.map(toCounterState);
}
