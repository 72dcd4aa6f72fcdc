import { type Kysely, sql } from 'kysely';

/**
 * `messages_thread` indexes only replies (`thread_id` set). A message that starts its own conversation
 * (`thread_id` NULL: most messages) is its conversation's first and is found by its id, as the thread
 * query already asks; a conversation's other messages carry `thread_id` and are found through the
 * index as before (`thread_id = ?` implies `thread_id is not null`, so both databases use it). A new
 * message that is not a reply writes one index fewer. Dropped and made again in the migration's
 * transaction: the index is never missing for a reader.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index messages_thread`.execute(db);
  await sql`create index messages_thread on messages (thread_id, id) where thread_id is not null`.execute(db);
}
