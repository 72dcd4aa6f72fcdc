/**
 * SQL for mailbox states: advancing a user's step with each change, and reading what changed since
 * a step. Every function takes the database or a transaction first.
 */
import { type Kysely, sql } from 'kysely';
import type { Database, Folder } from '../../db/database.js';
import { lastIdSeen, type MailboxState } from './mailbox-state.js';

type Db = Kysely<Database>;

/** The step each user's mailbox moved to: user id → seq. */
export type AdvancedStates = ReadonlyMap<number, number>;

/**
 * Moves each user's mailbox one step on, inside the caller's transaction, and answers the new steps.
 * A user's row stays locked until the transaction ends, so a user's steps commit in order: whatever a
 * reader sees of steps up to n, it sees all of them. Rows are locked in id order (no deadlock between
 * two writers that touch the same users).
 */
export async function advanceStates(db: Db, userIds: Iterable<number>): Promise<AdvancedStates> {
  const ids = [...new Set(userIds)].sort((a, b) => a - b);
  if (ids.length === 0) return new Map();
  const rows = await db
    .insertInto('mailbox_states')
    .values(ids.map((userId) => ({ user_id: userId, seq: 1 })))
    .onConflict((conflict) => conflict.column('user_id').doUpdateSet((eb) => ({ seq: eb('mailbox_states.seq', '+', 1) })))
    .returning(['user_id', 'seq'])
    .execute();
  return new Map(rows.map((row) => [Number(row.user_id), Number(row.seq)]));
}

/** The step a user's mailbox is at (0 before its first change). */
export async function currentSeq(db: Db, userId: number): Promise<number> {
  const row = await db.selectFrom('mailbox_states').select('seq').where('user_id', '=', userId).executeTakeFirst();
  return Number(row?.seq ?? 0);
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
          and (recipient_seq > ${seq} or (recipient_seq = ${seq} and id > ${afterId}))
      union all
      select id, from_userid, folder, sender_seq as seq, sender_seq as created_seq, 1 as sent
        from messages
        where from_userid = ${userId} and sender_seq <= (select seq from cur)
          and (sender_seq > ${seq} or (sender_seq = ${seq} and id > ${afterId}))
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
