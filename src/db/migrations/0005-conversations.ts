import { type Kysely, sql } from 'kysely';
import { indexUnindexedMessages } from '../../modules/mailbox/search-index.js';
import type { DialectName } from '../create-db.js';
import type { Database } from '../database.js';

/**
 * Time, conversations and search (the mailbox additions of issue 14), added in place:
 * - `created_at` (epoch ms), NULL for the messages already stored: their time was never recorded;
 * - `thread_id` (NULL: the message starts its own conversation) and `in_reply_to`;
 * - (from_userid, id) for the sent folder newest first (it replaces the index on from_userid alone),
 *   and thread_id for a conversation's messages;
 * - the full-text index (modules/mailbox/search-index.ts), filled with every message already stored.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema.alterTable('messages').addColumn('created_at', 'bigint').execute();
  await db.schema.alterTable('messages').addColumn('thread_id', 'bigint').execute();
  await db.schema.alterTable('messages').addColumn('in_reply_to', 'bigint', (column) => column.references('messages.id')).execute();
  await db.schema.createIndex('messages_sender_id').on('messages').columns(['from_userid', 'id']).execute();
  await db.schema.dropIndex('messages_sender').execute();
  await db.schema.createIndex('messages_thread').on('messages').columns(['thread_id', 'id']).execute();

  if (dialect === 'postgres') {
    await db.schema.alterTable('messages').addColumn('search_vector', sql`tsvector`).execute();
    await sql`create index messages_search on messages using gin (search_vector)`.execute(db);
  } else {
    // contentless: the words live only in the index; the text stays in messages alone.
    await sql`create virtual table messages_search using fts5(words, content='', contentless_delete=1, tokenize='ascii', prefix='1 2 3')`.execute(db);
  }
  await indexUnindexedMessages(db as Kysely<Database>);
}
