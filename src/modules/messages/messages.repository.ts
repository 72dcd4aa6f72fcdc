/** SQL for messages. Every function takes the database or a transaction first. */
import type { Kysely } from 'kysely';
import { type DialectName, isForeignKeyViolation, lockRowsForUpdate } from '../../db/create-db.js';
import type { Database, MessageRow } from '../../db/database.js';
import { UserNotFound } from '../../errors.js';
import type { MessageState } from './batch-update.js';

type Db = Kysely<Database>;

export interface NewMessageInput {
  from_userid: number;
  to_userid: number;
  subject: string;
  message: string;
}

/** The contract's Message, column for column. */
export const MESSAGE_COLUMNS = ['id', 'from_userid', 'to_userid', 'subject', 'message', 'folder', 'unread'] as const;

/** Inserts a message; an unknown sender or recipient is refused by the foreign keys and answered 404. */
export async function insertMessage(db: Db, input: NewMessageInput): Promise<MessageRow> {
  try {
    return await db.insertInto('messages').values(input).returning(MESSAGE_COLUMNS).executeTakeFirstOrThrow();
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new UserNotFound();
    throw error;
  }
}

export async function listMessages(
  db: Db,
  page: { offset: number; limit: number },
  recipientId?: number,
): Promise<MessageRow[]> {
  if (page.limit === 0) return [];
  let query = db.selectFrom('messages').select(MESSAGE_COLUMNS);
  if (recipientId !== undefined) query = query.where('to_userid', '=', recipientId);
  return query.orderBy('id').limit(page.limit).offset(page.offset).execute();
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
  dialect: DialectName,
  ids: number[],
  recipientId?: number,
): Promise<StoredMessageState[]> {
  let query = db
    .selectFrom('messages')
    .select(['id', 'from_userid', 'to_userid', 'folder', 'unread'])
    .where('id', 'in', ids);
  if (recipientId !== undefined) query = query.where('to_userid', '=', recipientId);
  return lockRowsForUpdate(query.orderBy('id'), dialect).execute();
}

/** Writes new states with one UPDATE per distinct target state: a constant number of statements. */
export async function updateMessageStates(db: Db, changes: { id: number; state: MessageState }[]): Promise<void> {
  const byState = new Map<string, { state: MessageState; ids: number[] }>();
  for (const { id, state } of changes) {
    const key = `${state.folder}/${state.unread}`;
    const group = byState.get(key) ?? { state, ids: [] };
    group.ids.push(id);
    byState.set(key, group);
  }
  for (const { state, ids } of byState.values()) {
    await db.updateTable('messages').set({ folder: state.folder, unread: state.unread }).where('id', 'in', ids).execute();
  }
}
