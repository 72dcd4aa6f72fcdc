/**
 * `npm run migrate`: brings the database at DATABASE_URL to the latest schema and exits, for
 * deploys that migrate before starting instances. (Instances also migrate at start; Kysely's
 * migration lock lets several do so at once.)
 */
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase } from '../db/create-db.js';
import { migrateToLatest } from '../db/migrate.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const { db, dialect } = createDatabase(config.databaseUrl, { poolMax: 1, timeoutMs: config.databaseTimeoutMs });
  try {
    await migrateToLatest(db, dialect);
    console.log(`Database (${dialect}) is at the latest schema.`);
  } finally {
    await db.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
