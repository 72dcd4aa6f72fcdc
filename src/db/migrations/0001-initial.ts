import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { DialectName } from '../create-db.js';

/**
 * Ids are 64-bit (clients may send any id up to 2^53 - 1). SQLite's `integer primary key` is the
 * 64-bit rowid; PostgreSQL gets a bigint identity column.
 */
function idType(dialect: DialectName) {
  return dialect === 'sqlite' ? 'integer' : 'bigint';
}

function idColumn(dialect: DialectName) {
  return (column: ColumnDefinitionBuilder) =>
    dialect === 'sqlite' ? column.primaryKey().autoIncrement() : column.primaryKey().generatedByDefaultAsIdentity();
}

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', idType(dialect), idColumn(dialect))
    .addColumn('email', 'text', (column) => column.notNull().unique())
    .addColumn('hashed_password', 'text', (column) => column.notNull())
    .addColumn('is_active', 'integer', (column) => column.notNull().defaultTo(1))
    .execute();

  await db.schema
    .createTable('items')
    .addColumn('id', idType(dialect), idColumn(dialect))
    .addColumn('title', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('owner_id', 'bigint', (column) => column.notNull().references('users.id'))
    .execute();
  await db.schema.createIndex('items_owner_id').on('items').column('owner_id').execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', idType(dialect), idColumn(dialect))
    .addColumn('from_userid', 'bigint', (column) => column.notNull().references('users.id'))
    .addColumn('to_userid', 'bigint', (column) => column.notNull().references('users.id'))
    .addColumn('subject', 'text', (column) => column.notNull())
    .addColumn('message', 'text', (column) => column.notNull())
    .addColumn('folder', 'text', (column) => column.notNull().defaultTo('inbox'))
    .addColumn('unread', 'text', (column) => column.notNull().defaultTo('Y'))
    .execute();
  // A mailbox view reads one recipient's folder newest first; the spam ledger looks up (recipient, sender).
  await db.schema.createIndex('messages_recipient_folder').on('messages').columns(['to_userid', 'folder', 'id']).execute();
  await db.schema.createIndex('messages_sender').on('messages').column('from_userid').execute();

  // The spam-report ledger: who reports whom. The truth behind the Redis counters (modules/spam).
  await db.schema
    .createTable('spam_reports')
    .addColumn('reporter_id', 'bigint', (column) => column.notNull().references('users.id'))
    .addColumn('sender_id', 'bigint', (column) => column.notNull().references('users.id'))
    .addColumn('reported_at', 'bigint', (column) => column.notNull())
    .addPrimaryKeyConstraint('spam_reports_pk', ['sender_id', 'reporter_id'])
    .execute();
  // One row per reported sender: how many report them, a version that orders counter writes, and
  // when the counter (and the reports behind it) expire, in epoch milliseconds.
  await db.schema
    .createTable('spam_counters')
    .addColumn('sender_id', 'bigint', (column) => column.primaryKey().references('users.id'))
    .addColumn('reporters', 'integer', (column) => column.notNull())
    .addColumn('version', 'integer', (column) => column.notNull())
    .addColumn('expires_at', 'bigint', (column) => column.notNull())
    .execute();
}
