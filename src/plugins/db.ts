/** Opens the database chosen by DATABASE_URL, migrates it to the latest schema, closes it on shutdown. */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import { createDatabase, type DatabaseOptions, type DialectName } from '../db/create-db.js';
import type { Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
    dialect: DialectName;
  }
}

export interface DbPluginOptions extends DatabaseOptions {
  url: string;
}

async function dbPlugin(app: FastifyInstance, options: DbPluginOptions) {
  const { db, dialect } = createDatabase(options.url, options);
  app.addHook('onClose', () => db.destroy());
  await migrateToLatest(db, dialect);
  app.decorate('db', db);
  app.decorate('dialect', dialect);
}

export default fp(dbPlugin, { name: 'db' });
