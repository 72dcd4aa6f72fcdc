/**
 * The database chosen by DATABASE_URL, migrated to the latest schema, as `app.db`; closed on shutdown.
 * `openDatabase` runs before the plugin is registered: waiting for a database that is still
 * starting may take longer than Fastify lets a plugin take to load.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import { createDatabase, type DatabaseHandle, type DatabaseOptions, isDatabaseUnavailable } from '../db/create-db.js';
import type { Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
  }
}

export interface OpenDatabaseOptions extends DatabaseOptions {
  url: string;
  log: FastifyBaseLogger;
  /** how long to keep trying while the database is unreachable at start (default 30 s) */
  startupRetryMs?: number;
}

/** An instance started alongside its database waits this long for it, instead of crash-looping. */
const STARTUP_RETRY_MS = 30_000;
const FIRST_RETRY_DELAY_MS = 250;
const LAST_RETRY_DELAY_MS = 4000;

async function openAndMigrate(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.url.startsWith('sqlite:')) {
    // The same connection: `sqlite::memory:` exists only inside it.
    const handle = createDatabase(options.url, options);
    try {
      await migrateToLatest(handle.db, handle.dialect);
      return handle;
    } catch (error) {
      await handle.db.destroy();
      throw error;
    }
  }
  // PostgreSQL migrates on a connection of its own, without the statement timeout: an index build,
  // or waiting for another instance's migration, may take longer than a request may.
  const migrating = createDatabase(options.url, { ...options, poolMax: 1, limitStatements: false });
  try {
    await migrateToLatest(migrating.db, migrating.dialect);
  } finally {
    await migrating.db.destroy();
  }
  return createDatabase(options.url, { ...options, limitStatements: true });
}

/**
 * Opens and migrates the database. While it is unreachable (not started yet, restarting, its
 * write lock held by another process), retries with a growing pause for up to `startupRetryMs`,
 * logging each attempt; any other failure (a migration that cannot apply) stops the start at once.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const deadline = Date.now() + (options.startupRetryMs ?? STARTUP_RETRY_MS);
  let delayMs = FIRST_RETRY_DELAY_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const handle = await openAndMigrate(options);
      if (attempt > 1) options.log.info({ attempt }, 'database reachable; migrated');
      return handle;
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() + delayMs > deadline) throw error;
      options.log.warn({ err: error, attempt, retryInMs: delayMs }, 'database not reachable yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, LAST_RETRY_DELAY_MS);
    }
  }
}

async function dbPlugin(app: FastifyInstance, handle: DatabaseHandle) {
  app.addHook('onClose', () => handle.db.destroy());
  app.decorate('db', handle.db);
}

export default fp(dbPlugin, { name: 'db' });
