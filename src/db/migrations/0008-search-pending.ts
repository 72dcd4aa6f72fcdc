import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../create-db.js';

/**
 * SQLite: the words of new messages wait in `messages_search_pending` (id: the message's, words: as the
 * full-text index holds them) until they are moved into the FTS5 table in batches
 * (modules/mailbox/search-index.ts). Searches read both, so a message is found as soon as it is stored.
 * PostgreSQL keeps indexing each message in the statement that stores it: nothing to add there.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  if (dialect !== 'sqlite') return;
  await sql`create table messages_search_pending (id integer primary key, words text not null)`.execute(db);
}
