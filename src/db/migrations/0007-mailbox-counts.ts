import type { Kysely } from 'kysely';
import { rebuildMailboxCounts } from '../../modules/mailbox/mailbox-changes.repository.js';
import type { DialectName } from '../create-db.js';
import type { Database } from '../database.js';

/**
 * Folder counts kept, not counted (issue 17): each user's row of mailbox_states, which every change
 * to their mailbox already updates in its transaction, carries the totals and unread counts of their
 * folders. `GET /users/{id}/folders` reads one row instead of counting a mailbox of any size. Filled
 * here from the messages already stored.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  for (const column of ['inbox_total', 'inbox_unread', 'trash_total', 'trash_unread', 'spam_total', 'spam_unread', 'sent_total']) {
    await db.schema.alterTable('mailbox_states').addColumn(column, 'bigint', (definition) => definition.notNull().defaultTo(0)).execute();
  }
  await rebuildMailboxCounts(db as Kysely<Database>);
}
