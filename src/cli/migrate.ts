/**
 * `npm run migrate`: brings the database at DATABASE_URL to the latest schema and exits, for
 * deploys that migrate before starting instances. (Instances also migrate at start; Kysely's
 * migration lock lets several do so at once.)
 */
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/create-db.js';
import { migrateToLatest } from '../db/migrate.js';
import { runCommand } from './run-command.js';

async function main(): Promise<number> {
  const config = loadConfig();
  const { db, dialect } = createDatabase(config.databaseUrl, { poolMax: 1, timeoutMs: config.databaseTimeoutMs });
  try {
    await migrateToLatest(db, dialect);
    console.log(`Database (${dialect}) is at the latest schema.`);
    return 0;
  } finally {
    await db.destroy();
  }
}

runCommand(main);
