/**
 * Schema migrations, kept in code (not read from disk) so the built service and the tests run
 * the same list. Several instances may start at once: Kysely's Migrator takes PostgreSQL's advisory
 * lock, and on SQLite migrates in one `begin immediate` transaction (create-db.ts), which is the lock.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { DialectName } from './create-db.js';
import type { Database } from './database.js';
import * as initial from './migrations/0001-initial.js';
import * as mailboxIndexes from './migrations/0002-mailbox-indexes.js';
import * as emailKey from './migrations/0003-email-key.js';
import * as databaseGeneration from './migrations/0004-database-generation.js';
import * as conversations from './migrations/0005-conversations.js';
import * as mailboxChanges from './migrations/0006-mailbox-changes.js';
import * as mailboxCounts from './migrations/0007-mailbox-counts.js';
import * as searchPending from './migrations/0008-search-pending.js';
import * as searchWordsLowered from './migrations/0009-search-words-lowered.js';
import * as threadIndexRepliesOnly from './migrations/0010-thread-index-replies-only.js';

type DialectMigration = { up(db: Kysely<unknown>, dialect: DialectName): Promise<void> };

const MIGRATIONS: Record<string, DialectMigration> = {
  '0001-initial': initial,
  '0002-mailbox-indexes': mailboxIndexes,
  '0003-email-key': emailKey,
  '0004-database-generation': databaseGeneration,
  '0005-conversations': conversations,
  '0006-mailbox-changes': mailboxChanges,
  '0007-mailbox-counts': mailboxCounts,
  '0008-search-pending': searchPending,
  '0009-search-words-lowered': searchWordsLowered,
  '0010-thread-index-replies-only': threadIndexRepliesOnly,
};

function provider(dialect: DialectName): MigrationProvider {
  return {
    async getMigrations() {
      const entries = Object.entries(MIGRATIONS).map(([name, migration]): [string, Migration] => [
        name,
        { up: (db) => migration.up(db, dialect) },
      ]);
      return Object.fromEntries(entries);
    },
  };
}

/**
 * PostgreSQL: the schema the migrations' own tables live in. Without it, Kysely looks for them in
 * every schema of the database and, finding another schema's, would not create ours.
 */
async function currentSchema(db: Kysely<Database>, dialect: DialectName): Promise<string | undefined> {
  if (dialect !== 'postgres') return undefined;
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema;
}

/** Brings the schema to the latest migration, or only up to `upTo` (tests build an older release's database so). */
export async function migrateToLatest(db: Kysely<Database>, dialect: DialectName, { upTo }: { upTo?: string } = {}): Promise<void> {
  const schema = await currentSchema(db, dialect);
  const migrator = new Migrator({ db, provider: provider(dialect), ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await (upTo ? migrator.migrateTo(upTo) : migrator.migrateToLatest());
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
  }
}
