/**
 * SQL for mailbox states: advancing a user's step with each change, and reading what changed since
 * a step. Every function takes the database or a transaction first.
 */
import { type Kysely, sql } from 'kysely';
import { dialectOf, distinctIds, inTransaction, lookupEach } from '../../db/create-db.js';
import { prepared } from '../../db/prepared.js';
import type { Database, Folder, UnreadMark } from '../../db/database.js';
import { lastIdSeen, type MailboxState } from './mailbox-state.js';

type Db = Kysely<Database>;

/** The step each user's mailbox moved to: user id → seq. */
export type AdvancedStates = ReadonlyMap<number, number>;

/** The folder counts a mailbox row keeps: received mail by folder (total and unread), and mail sent. */
export const COUNT_COLUMNS = ['inbox_total', 'inbox_unread', 'trash_total', 'trash_unread', 'spam_total', 'spam_unread', 'sent_total'] as const;
export type CountColumn = (typeof COUNT_COLUMNS)[number];
/** How a change moves a user's counts (absent: 0). */
export type CountDeltas = Partial<Record<CountColumn, number>>;

const RECEIVED_COLUMNS: Partial<Record<Folder, { total: CountColumn; unread: CountColumn }>> = {
  inbox: { total: 'inbox_total', unread: 'inbox_unread' },
  trash: { total: 'trash_total', unread: 'trash_unread' },
  spam: { total: 'spam_total', unread: 'spam_unread' },
};

/**
 * What moving one received message between states does to its recipient's counts (pure): out of the
 * old folder, into the new one. `sent` and `deleted` are not received folders and count nowhere.
 */
export function countDeltasOfMove(
  deltas: CountDeltas,
  from: { folder: Folder; unread: UnreadMark } | undefined,
  to: { folder: Folder; unread: UnreadMark },
): CountDeltas {
  const add = (column: CountColumn, amount: number) => (deltas[column] = (deltas[column] ?? 0) + amount);
  const before = from && RECEIVED_COLUMNS[from.folder];
  if (from && before) {
    add(before.total, -1);
    if (from.unread === 'Y') add(before.unread, -1);
  }
  const after = RECEIVED_COLUMNS[to.folder];
  if (after) {
    add(after.total, 1);
    if (to.unread === 'Y') add(after.unread, 1);
  }
  return deltas;
}

/**
 * Moves each user's mailbox one step on, with its counts, inside the caller's transaction, and
 * answers the new steps: one statement for all of them. A user's row stays locked until the
 * transaction ends, so a user's steps commit in order (whatever a reader sees of steps up to n, it sees
 * all of them) and counts change one writer at a time, exactly. Rows are locked in id order (no
 * deadlock between two writers that touch the same users).
 */
export async function advanceMailboxes(db: Db, changes: ReadonlyMap<number, CountDeltas>): Promise<AdvancedStates> {
  const ids = distinctIds([...changes.keys()]);
  if (ids.length === 0) return new Map();
  const rows: number[] = [];
  for (const userId of ids) {
    const deltas = changes.get(userId) ?? {};
    rows.push(userId);
    for (const column of COUNT_COLUMNS) rows.push(deltas[column] ?? 0);
  }
  // PostgreSQL answers the new steps from the upsert itself (one round trip). SQLite is asked for them
  // after it: RETURNING there gathers its rows in a temporary B-tree first, opened and closed on every
  // call, which cost about 8,500 instructions a call more than the upsert and a read by primary key.
  // `user_id in (…)` would build such a B-tree too (of the values): one lookup per user (lookupEach).
  let steps: { user_id: number; seq: number }[];
  if (dialectOf(db) === 'postgres') steps = await upsertMailboxStepsReturning(db, rows);
  else {
    await upsertMailboxSteps(db, rows);
    steps = await selectStepsEach(db, ids);
  }
  const states = new Map<number, number>();
  for (const row of steps) states.set(Number(row.user_id), Number(row.seq));
  return states;
}

/** Per user, flat: the id, then the count deltas in COUNT_COLUMNS order. */
function upsertStepsQuery(db: Db, rows: readonly number[]) {
  const width = 1 + COUNT_COLUMNS.length;
  const values = [];
  for (let start = 0; start < rows.length; start += width) {
    const counts = Object.fromEntries(COUNT_COLUMNS.map((column, index) => [column, rows[start + 1 + index] ?? 0]));
    values.push({ user_id: rows[start] ?? 0, seq: 1, ...counts });
  }
  return db
    .insertInto('mailbox_states')
    .values(values)
    .onConflict((conflict) =>
      conflict.column('user_id').doUpdateSet((eb) => ({
        seq: eb('mailbox_states.seq', '+', 1),
        ...Object.fromEntries(COUNT_COLUMNS.map((column) => [column, eb(`mailbox_states.${column}`, '+', eb.ref(`excluded.${column}`))])),
      })),
    );
}

const upsertMailboxSteps = prepared(upsertStepsQuery);
const upsertMailboxStepsReturning = prepared((db: Db, rows: readonly number[]) => upsertStepsQuery(db, rows).returning(['user_id', 'seq']));
/** Each user's step (the ids distinct: they are a map's keys). */
const selectStepsEach = prepared((db: Db, ids: readonly number[]) =>
  lookupEach(ids, (userId) => db.selectFrom('mailbox_states').select(['user_id', 'seq']).where('user_id', '=', userId)),
);

/** The step a user's mailbox is at (0 before its first change). */
export async function currentSeq(db: Db, userId: number): Promise<number> {
  const row = await db.selectFrom('mailbox_states').select('seq').where('user_id', '=', userId).executeTakeFirst();
  return Number(row?.seq ?? 0);
}

export type MailboxCounts = Record<CountColumn, number> & { seq: number };

/**
 * A user's step and folder counts (all 0 for a user whose mailbox never changed), or undefined when
 * there is no such user: one query answers both, where a view would otherwise ask twice.
 */
export async function readMailboxCounts(db: Db, userId: number): Promise<MailboxCounts | undefined> {
  const [row] = await selectMailboxCounts(db, userId);
  if (row === undefined) return undefined;
  return Object.fromEntries(['seq', ...COUNT_COLUMNS].map((column) => [column, Number(row[column as keyof typeof row] ?? 0)])) as MailboxCounts;
}

const selectMailboxCounts = prepared((db: Db, userId: number) =>
  db
    .selectFrom('users')
    .leftJoin('mailbox_states', 'mailbox_states.user_id', 'users.id')
    .select(['mailbox_states.seq', ...COUNT_COLUMNS.map((column) => `mailbox_states.${column}` as const)])
    .where('users.id', '=', userId),
);

/**
 * Counts every user's folders again from the messages, in one transaction that holds off writers
 * (SQLite's write lock; on PostgreSQL a SHARE lock on messages): for the migration that added the
 * counts, and for `npm run counts:rebuild` after messages were changed by hand in SQL. Steps stay as they are.
 */
export async function rebuildMailboxCounts(db: Db): Promise<void> {
  await inTransaction(db, async (trx) => {
    if (dialectOf(trx) === 'postgres') await sql`lock table messages in share mode`.execute(trx);
    const received = (folder: Folder, unreadOnly: boolean) =>
      sql.raw(`sum(case when folder = '${folder}'${unreadOnly ? " and unread = 'Y'" : ''} then 1 else 0 end)`);
    await sql`
      with received as (
        select to_userid as user_id,
          ${received('inbox', false)} as inbox_total, ${received('inbox', true)} as inbox_unread,
          ${received('trash', false)} as trash_total, ${received('trash', true)} as trash_unread,
          ${received('spam', false)} as spam_total, ${received('spam', true)} as spam_unread
        from messages group by to_userid
      ),
      sent as (select from_userid as user_id, count(*) as sent_total from messages group by from_userid),
      everyone as (select user_id from received union select user_id from sent union select user_id from mailbox_states)
      insert into mailbox_states (user_id, seq, inbox_total, inbox_unread, trash_total, trash_unread, spam_total, spam_unread, sent_total)
      select everyone.user_id, 0,
        coalesce(received.inbox_total, 0), coalesce(received.inbox_unread, 0),
        coalesce(received.trash_total, 0), coalesce(received.trash_unread, 0),
        coalesce(received.spam_total, 0), coalesce(received.spam_unread, 0),
        coalesce(sent.sent_total, 0)
      from everyone left join received on received.user_id = everyone.user_id left join sent on sent.user_id = everyone.user_id
      where true
      on conflict (user_id) do update set
        inbox_total = excluded.inbox_total, inbox_unread = excluded.inbox_unread,
        trash_total = excluded.trash_total, trash_unread = excluded.trash_unread,
        spam_total = excluded.spam_total, spam_unread = excluded.spam_unread,
        sent_total = excluded.sent_total
    `.execute(trx);
  });
}

/** The steps of these users' mailboxes (users without any change are left out). */
export async function currentSeqs(db: Db, userIds: readonly number[]): Promise<Map<number, number>> {
  const seqs = new Map<number, number>();
  for (let start = 0; start < userIds.length; start += 500) {
    const rows = await db.selectFrom('mailbox_states').select(['user_id', 'seq']).where('user_id', 'in', userIds.slice(start, start + 500)).execute();
    for (const row of rows) seqs.set(Number(row.user_id), Number(row.seq));
  }
  return seqs;
}

/** A message that changed for the user: at step `seq`, on the side they received it or sent it. */
export interface ChangeRow {
  id: number;
  from_userid: number;
  folder: Folder;
  seq: number;
  /** the step at which it arrived (received side; null for mail from before steps were kept); the send step on the sent side */
  created_seq: number | null;
  sent: boolean;
}

export interface ChangesRead {
  /** the user's step when read; no row is past it */
  current: number;
  /** in step order, then id; at most `rows` of them */
  rows: ChangeRow[];
}

/**
 * The user's messages that changed after `since`, up to the current step, in (step, id) order, at most
 * `rows` of them. One statement, so the current step and the rows are one snapshot: a message that
 * changes again meanwhile cannot slip past both.
 */
export async function readChanges(db: Db, userId: number, since: MailboxState, rows: number): Promise<ChangesRead> {
  const { seq } = since;
  const afterId = lastIdSeen(since);
  // The plain `>=` repeats what the OR says: it gives SQLite's planner the range's start in the (user, seq, id)
  // index, without which it read every step the user ever had (6 ms at 100,000 messages instead of 0.05).
  const { rows: found } = await sql<{
    current: number | string;
    id: number | null;
    from_userid: number | null;
    folder: Folder | null;
    seq: number | string | null;
    created_seq: number | string | null;
    sent: number | null;
  }>`
    with cur as (select coalesce((select seq from mailbox_states where user_id = ${userId}), 0) as seq)
    select cur.seq as current, changes.* from cur left join (
      select id, from_userid, folder, recipient_seq as seq, recipient_created_seq as created_seq, 0 as sent
        from messages
        where to_userid = ${userId} and recipient_seq <= (select seq from cur)
          and recipient_seq >= ${seq} and (recipient_seq > ${seq} or (recipient_seq = ${seq} and id > ${afterId}))
      union all
      select id, from_userid, folder, sender_seq as seq, sender_seq as created_seq, 1 as sent
        from messages
        where from_userid = ${userId} and sender_seq <= (select seq from cur)
          and sender_seq >= ${seq} and (sender_seq > ${seq} or (sender_seq = ${seq} and id > ${afterId}))
    ) changes on 1 = 1
    order by changes.seq, changes.id, changes.sent
    limit ${rows}
  `.execute(db);
  return {
    current: Number(found[0]?.current ?? 0),
    rows: found.flatMap((row) =>
      row.id === null || row.seq === null || row.folder === null || row.from_userid === null
        ? []
        : [
            {
              id: Number(row.id),
              from_userid: Number(row.from_userid),
              folder: row.folder,
              seq: Number(row.seq),
              created_seq: row.created_seq === null ? null : Number(row.created_seq),
              sent: Number(row.sent) === 1,
            },
          ],
    ),
  };
}
