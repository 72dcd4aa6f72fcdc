import type { Kysely } from 'kysely';
import type { DialectName } from '../create-db.js';

/**
 * Indexes for the mailbox views (GET /users/{id}/messages and /folders). 0001's
 * (to_userid, folder, id) already serves one folder newest first; these add:
 * - (to_userid, id): all of a recipient's mail newest first, and the unread filter across folders;
 * - (to_userid, folder, unread, id): one folder's unread (or read) mail newest first, and the
 *   per-folder counts read from the index alone (it covers folder and unread).
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.createIndex('messages_recipient_id').ifNotExists().on('messages').columns(['to_userid', 'id']).execute();
  await db.schema
    .createIndex('messages_recipient_folder_unread')
    .ifNotExists()
    .on('messages')
    .columns(['to_userid', 'folder', 'unread', 'id'])
    .execute();
}
