/** SQL for the mailbox views. Every function takes the database (or a transaction) first. */
import type { Kysely } from 'kysely';
import { type Database, MAILBOX_FOLDERS, type MessageRow, type UnreadMark } from '../../db/database.js';
import { readPageBySize, type SizedPage } from '../../db/page-by-size.js';
import { MESSAGE_COLUMNS, messageJsonBytes } from '../messages/messages.repository.js';

type Db = Kysely<Database>;

export type MailboxFolder = (typeof MAILBOX_FOLDERS)[number];

export interface MailboxFilter {
  folder?: MailboxFolder | undefined;
  unread?: UnreadMark | undefined;
  /** only messages with a smaller id: the keyset of the page before */
  beforeId?: number | undefined;
  limit: number;
}

/**
 * A recipient's messages, newest (highest id) first, as many of `limit` as fit in one answer
 * (see db/page-by-size.ts). Keyset paging on id: mail that arrives while a client pages gets
 * higher ids, so it never shifts a later page (no gap, no repeat).
 */
export async function listMailbox(db: Db, recipientId: number, filter: MailboxFilter): Promise<SizedPage<MessageRow>> {
  return readPageBySize({
    limit: filter.limit,
    sizeOf: messageJsonBytes,
    readChunk: (count, after) => {
      let query = db.selectFrom('messages').select(MESSAGE_COLUMNS).where('to_userid', '=', recipientId);
      if (filter.folder !== undefined) query = query.where('folder', '=', filter.folder);
      if (filter.unread !== undefined) query = query.where('unread', '=', filter.unread);
      const beforeId = after?.id ?? filter.beforeId;
      if (beforeId !== undefined) query = query.where('id', '<', beforeId);
      return query.orderBy('id', 'desc').limit(count).execute();
    },
  });
}

export interface FolderCount {
  folder: MailboxFolder;
  total: number;
  unread: number;
}

/** Total and unread messages per mailbox folder, in one grouped query; folders without mail count 0. */
export async function countByFolder(db: Db, recipientId: number): Promise<FolderCount[]> {
  const rows = await db
    .selectFrom('messages')
    .select((eb) => [
      'folder',
      eb.fn.countAll<number>().as('total'),
      // SUM over no rows is NULL; the literals are inlined so PostgreSQL types the CASE as integer.
      eb.fn
        .coalesce(eb.fn.sum<number>(eb.case().when('unread', '=', 'Y').then(eb.lit(1)).else(eb.lit(0)).end()), eb.lit(0))
        .as('unread'),
    ])
    .where('to_userid', '=', recipientId)
    .where('folder', 'in', [...MAILBOX_FOLDERS])
    .groupBy('folder')
    .execute();
  const byFolder = new Map(rows.map((row) => [row.folder, row]));
  return MAILBOX_FOLDERS.map((folder) => {
    const row = byFolder.get(folder);
    return { folder, total: Number(row?.total ?? 0), unread: Number(row?.unread ?? 0) };
  });
}
