import type { Kysely } from 'kysely';
import type { DialectName } from '../create-db.js';

/**
 * Mailbox states and changes (issue 15). Each user has a counter, `mailbox_states.seq`, that every
 * change to their mailbox advances in the same transaction; each message keeps the step at which it
 * last changed for its recipient (`recipient_seq`, and `recipient_created_seq` when it arrived) and at
 * which it was sent (`sender_seq`). "What changed since step n" is then an index range per side. Messages
 * stored before this migration have no steps: they are part of every user's first state.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('mailbox_states')
    // A state means nothing without its user: removing a user (by hand; the API has no way) takes it along.
    .addColumn('user_id', 'bigint', (column) => column.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema.alterTable('messages').addColumn('recipient_seq', 'bigint').execute();
  await db.schema.alterTable('messages').addColumn('recipient_created_seq', 'bigint').execute();
  await db.schema.alterTable('messages').addColumn('sender_seq', 'bigint').execute();
  await db.schema.createIndex('messages_recipient_changes').on('messages').columns(['to_userid', 'recipient_seq', 'id']).execute();
  await db.schema.createIndex('messages_sender_changes').on('messages').columns(['from_userid', 'sender_seq', 'id']).execute();
}
