/** SQL for messages. Every function takes the database or a transaction first. */
import type { Kysely } from 'kysely';
import { isForeignKeyViolation, lockRowsForUpdate } from '../../db/create-db.js';
import type { Database, MessageRow } from '../../db/database.js';
import { jsonBytes, readPageBySize, type SizedPage } from '../../db/page-by-size.js';
import { UserNotFound } from '../../errors.js';
import { insertSearchable } from '../mailbox/search-index.js';
import { MESSAGE_STATE_FIELDS, type MessageState, stateColumns, stateKey } from './batch-update.js';

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

/**
 * Stores a message with its time and indexes it for search in the same transaction (PostgreSQL: the
 * same statement). An unknown sender or recipient is refused by the foreign keys and answered 404.
 */
export async function insertMessage(db: Db, input: NewMessageInput): Promise<ContractMessageRow> {
  const row = { ...input, created_at: Date.now() };
  try {
    return await insertSearchable(db, input, (trx, searchColumns) =>
      trx.insertInto('messages').values({ ...row, ...searchColumns }).returning(MESSAGE_COLUMNS).executeTakeFirstOrThrow(),
    );
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new UserNotFound();
    throw error;
  }
}

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
      let query = db.selectFrom('messages').select(MESSAGE_COLUMNS);
      if (recipientId !== undefined) query = query.where('to_userid', '=', recipientId);
      if (after !== undefined) return query.where('id', '>', after.id).orderBy('id').limit(count).execute();
      return query.orderBy('id').limit(count).offset(page.offset).execute();
    },
  });
}

export interface StoredMessageState extends MessageState {
  id: number;
  from_userid: number;
  to_userid: number;
}

/**
 * Loads the listed messages (only the recipient's, when one is given) in one query, locking them
 * for the rest of the transaction so concurrent batches apply one after the other.
 */
export async function loadMessageStates(
  db: Db,
  ids: number[],
  recipientId?: number,
): Promise<StoredMessageState[]> {
  let query = db
    .selectFrom('messages')
    .select(['id', 'from_userid', 'to_userid', ...MESSAGE_STATE_FIELDS])
    .where('id', 'in', ids);
  if (recipientId !== undefined) query = query.where('to_userid', '=', recipientId);
  return lockRowsForUpdate(db, query.orderBy('id')).execute();
}

/** Writes new states with one UPDATE per distinct target state: a constant number of statements. */
export async function updateMessageStates(db: Db, changes: { id: number; state: MessageState }[]): Promise<void> {
  const byState = new Map<string, { state: MessageState; ids: number[] }>();
  for (const { id, state } of changes) {
    const key = stateKey(state);
    const group = byState.get(key) ?? { state, ids: [] };
    group.ids.push(id);
    byState.set(key, group);
  }
  for (const { state, ids } of byState.values()) {
    await db.updateTable('messages').set(stateColumns(state)).where('id', 'in', ids).execute();
  }
}
