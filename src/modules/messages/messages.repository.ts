/** SQL for messages. Every function takes the database or a transaction first. */
import type { Compilable, Kysely } from 'kysely';
import { dialectOf, distinctIds, inTransaction, isForeignKeyViolation, lockRowsForUpdate, lookupEach } from '../../db/create-db.js';
import type { Database, Folder, MessageRow, UnreadMark } from '../../db/database.js';
import { jsonBytes, readPageBySize, type SizedPage } from '../../db/page-by-size.js';
import { UserNotFound } from '../../errors.js';
import { type AdvancedStates, advanceMailboxes, type CountDeltas, countDeltasOfMove } from '../mailbox/mailbox-changes.repository.js';
import { insertSearchable, searchColumns } from '../mailbox/search-index.js';
import { prepared, preparedResult } from '../../db/prepared.js';
import { MESSAGE_STATE_FIELDS, type MessageState, stateKey } from './batch-update.js';

type Db = Kysely<Database>;

export interface NewMessageInput {
  from_userid: number;
  to_userid: number;
  subject: string;
  message: string;
  /** the conversation it joins; absent: it starts its own */
  thread_id?: number | undefined;
  in_reply_to?: number | undefined;
}

/** The contract's Message, column for column. */
export const MESSAGE_COLUMNS = ['id', 'from_userid', 'to_userid', 'subject', 'message', 'folder', 'unread'] as const;
export type ContractMessageRow = Pick<MessageRow, (typeof MESSAGE_COLUMNS)[number]>;

export interface StoredMessage {
  message: ContractMessageRow;
  /** the sender's and the recipient's mailbox steps it made */
  states: AdvancedStates;
}

/**
 * Stores a message with its time, in one transaction with what it changes: both mailboxes move a step
 * on, with their folder counts (mailbox-changes.repository.ts), and it is indexed for search. An unknown sender or
 * recipient is refused by the foreign keys and answered 404.
 */
export async function insertMessage(db: Db, input: NewMessageInput): Promise<StoredMessage> {
  try {
    return await inTransaction(db, async (trx) => {
      // A new message is in the recipient's inbox, unread, and in the sender's sent mail (both, for a message to oneself).
      const changes = new Map<number, CountDeltas>([[input.from_userid, { sent_total: 1 }]]);
      const recipient = changes.get(input.to_userid) ?? {};
      changes.set(input.to_userid, countDeltasOfMove(recipient, undefined, NEW_MESSAGE_STATE));
      const states = await advanceMailboxes(trx, changes);
      const message = await insertSearchable(trx, input, async (db, words) => {
        const result = await insertMessageRow(
          db,
          input.from_userid,
          input.to_userid,
          input.subject,
          input.message,
          NEW_MESSAGE_STATE.folder,
          NEW_MESSAGE_STATE.unread,
          input.thread_id ?? null,
          input.in_reply_to ?? null,
          Date.now(),
          states.get(input.to_userid) ?? 0,
          states.get(input.from_userid) ?? 0,
          words,
        );
        const id = Number(result.insertId ?? result.rows[0]?.id);
        // A lone surrogate is not stored as it came (each database writes UTF-8 its own way): the row read back is the answer then.
        if (LONE_SURROGATE.test(input.subject) || LONE_SURROGATE.test(input.message)) return (await messageById(db, id))[0]!;
        const { from_userid, to_userid, subject, message } = input;
        return { id, from_userid, to_userid, subject, message, ...NEW_MESSAGE_STATE };
      });
      return { message, states };
    });
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new UserNotFound();
    throw error;
  }
}

/** A lone surrogate: half of a pair, without its other half. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const messageById = prepared((db: Db, id: number) => db.selectFrom('messages').select(MESSAGE_COLUMNS).where('id', '=', id));

/** Where a new message is: its recipient's inbox, unread (written as such, and answered without reading it back). */
const NEW_MESSAGE_STATE = { folder: 'inbox', unread: 'Y' } as const;

/**
 * Stores a message's row: its id is SQLite's insertId, or what PostgreSQL returns (it has no insertId).
 * SQLite is not asked to return it: RETURNING made the insert half again as dear there (11 µs against
 * 7 timed alone; 24k more instructions in a savepoint), and every other column is what was written
 * (but for lone surrogates: insertMessage).
 */
const insertMessageRow = preparedResult(
  (
    db: Db,
    from: number,
    to: number,
    subject: string,
    message: string,
    folder: Folder,
    unread: UnreadMark,
    threadId: number | null,
    inReplyTo: number | null,
    createdAt: number,
    recipientSeq: number,
    senderSeq: number,
    words: string,
  ) => {
    const insert = db.insertInto('messages').values({
      from_userid: from,
      to_userid: to,
      subject,
      message,
      folder,
      unread,
      thread_id: threadId,
      in_reply_to: inReplyTo,
      created_at: createdAt,
      recipient_seq: recipientSeq,
      recipient_created_seq: recipientSeq,
      sender_seq: senderSeq,
      ...searchColumns(db, words),
    });
    // Either way, a row of `{ id }` when any: SQLite answers none.
    return (dialectOf(db) === 'postgres' ? insert.returning('id') : insert) as Compilable<{ id: number }>;
  },
);

/** What a Message adds to its text in an answer: keys, punctuation, three ids of up to 16 digits, the comma. */
const MESSAGE_FRAME_BYTES = 160;

/** Bytes a message takes in a list answer (an upper bound; exact for its text). */
export function messageJsonBytes(row: Pick<MessageRow, 'subject' | 'message' | 'folder'>): number {
  return MESSAGE_FRAME_BYTES + jsonBytes(row.subject) + jsonBytes(row.message) + jsonBytes(row.folder);
}

/**
 * Messages in id order from `offset`, as many of `limit` as fit in one answer (see db/page-by-size.ts);
 * later chunks continue after the last id read rather than by offset.
 */
export async function listMessages(
  db: Db,
  page: { offset: number; limit: number },
  recipientId?: number,
): Promise<SizedPage<ContractMessageRow>> {
  return readPageBySize<ContractMessageRow>({
    limit: page.limit,
    sizeOf: messageJsonBytes,
    readChunk: (count, after) => {
      if (recipientId === undefined) return after === undefined ? firstMessages(db, count, page.offset) : messagesAfter(db, after.id, count);
      return after === undefined ? firstMessagesTo(db, recipientId, count, page.offset) : messagesToAfter(db, recipientId, after.id, count);
    },
  });
}

const firstMessages = prepared((db: Db, count: number, offset: number) =>
  db.selectFrom('messages').select(MESSAGE_COLUMNS).orderBy('id').limit(count).offset(offset),
);
const messagesAfter = prepared((db: Db, afterId: number, count: number) =>
  db.selectFrom('messages').select(MESSAGE_COLUMNS).where('id', '>', afterId).orderBy('id').limit(count),
);
const firstMessagesTo = prepared((db: Db, recipientId: number, count: number, offset: number) =>
  db.selectFrom('messages').select(MESSAGE_COLUMNS).where('to_userid', '=', recipientId).orderBy('id').limit(count).offset(offset),
);
const messagesToAfter = prepared((db: Db, recipientId: number, afterId: number, count: number) =>
  db.selectFrom('messages').select(MESSAGE_COLUMNS).where('to_userid', '=', recipientId).where('id', '>', afterId).orderBy('id').limit(count),
);

export interface StoredMessageState extends MessageState {
  id: number;
  from_userid: number;
  to_userid: number;
}

/**
 * Loads the listed messages (only the recipient's, when one is given) in one query, locking them
 * for the rest of the transaction so concurrent batches apply one after the other.
 */
export async function loadMessageStates(db: Db, ids: number[], recipientId?: number): Promise<StoredMessageState[]> {
  if (dialectOf(db) === 'sqlite') {
    // One lookup per id (lookupEach), in id order: SQLite has no row locks to take in order, and `in (…)` costs more.
    const distinct = distinctIds(ids);
    if (distinct.length === 0) return [];
    return recipientId === undefined ? messageStatesEach(db, distinct) : recipientMessageStatesEach(db, distinct, recipientId);
  }
  return recipientId === undefined ? messageStates(db, ids) : recipientMessageStates(db, ids, recipientId);
}

const STATE_COLUMNS = ['id', 'from_userid', 'to_userid', ...MESSAGE_STATE_FIELDS] as const;
// NO KEY UPDATE: a reply being stored (its in_reply_to key-share-locks the message) need not wait for the batch.
const messageStates = prepared((db: Db, ids: readonly number[]) =>
  lockRowsForUpdate(db, db.selectFrom('messages').select(STATE_COLUMNS).where('id', 'in', ids).orderBy('id'), 'no key update'),
);
const recipientMessageStates = prepared((db: Db, ids: readonly number[], recipientId: number) =>
  lockRowsForUpdate(
    db,
    db.selectFrom('messages').select(STATE_COLUMNS).where('id', 'in', ids).where('to_userid', '=', recipientId).orderBy('id'),
    'no key update',
  ),
);

const messageStatesEach = prepared((db: Db, ids: readonly number[]) =>
  lookupEach(ids, (id) => db.selectFrom('messages').select(STATE_COLUMNS).where('id', '=', id)),
);
const recipientMessageStatesEach = prepared((db: Db, ids: readonly number[], recipientId: number) =>
  lookupEach(ids, (id) => db.selectFrom('messages').select(STATE_COLUMNS).where('id', '=', id).where('to_userid', '=', recipientId)),
);

/**
 * Writes new states, each with the recipient's mailbox step it makes: one UPDATE per distinct
 * (state, step), a constant number of statements (a batch holds at most 10 messages).
 */
export async function updateMessageStates(db: Db, changes: { id: number; state: MessageState; recipientSeq: number }[]): Promise<void> {
  const groups = new Map<string, { state: MessageState; recipientSeq: number; ids: number[] }>();
  for (const { id, state, recipientSeq } of changes) {
    const key = `${stateKey(state)}@${recipientSeq}`;
    const group = groups.get(key) ?? { state, recipientSeq, ids: [] };
    group.ids.push(id);
    groups.set(key, group);
  }
  for (const { state, recipientSeq, ids } of groups.values()) {
    await setMessageStates(db, MESSAGE_STATE_FIELDS.map((field) => state[field]), recipientSeq, ids);
  }
}

/** The state's columns (MESSAGE_STATE_FIELDS, in order) and the step, for the listed messages. */
const setMessageStates = prepared((db: Db, values: readonly (string | number)[], recipientSeq: number, ids: readonly number[]) => {
  const state = Object.fromEntries(MESSAGE_STATE_FIELDS.map((field, index) => [field, values[index]])) as MessageState;
  return db.updateTable('messages').set({ ...state, recipient_seq: recipientSeq }).where('id', 'in', ids);
});
