/**
 * buildTestApp(t): the real app on a fresh database (in-memory SQLite, or a fresh PostgreSQL
 * schema when the suite runs on PostgreSQL) with a real Redis under a key prefix of its own.
 * Everything is closed and removed when the test ends.
 */
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createSchema, deleteKeysWithPrefix, dropSchema, REDIS_URL, redisWithPrefix, testDatabaseUrl, uniqueName } from './services.js';

export interface TestApp {
  app: FastifyInstance;
  /** sees the app's keys without the prefix: `redis.get('msg:spam-reports:uid:1')` */
  redis: Redis;
  prefix: string;
}

type Env = Record<string, string | undefined>;

/** Where a test's data lives; shared by several app instances when a test needs more than one. */
export interface TestStorage {
  env: Env;
  databaseSchema: string | undefined;
  prefix: string;
}

/** A fresh database and Redis prefix, removed when the test ends. `sqlite::memory:` cannot be shared, so pass a file to share. */
export async function createTestStorage(t: TestContext, env: Env = {}): Promise<TestStorage> {
  const prefix = `${uniqueName('test')}:`;
  const postgresUrl = testDatabaseUrl();
  const databaseSchema = postgresUrl ? uniqueName('test') : undefined;
  if (postgresUrl && databaseSchema) {
    await createSchema(postgresUrl, databaseSchema);
    t.after(() => dropSchema(postgresUrl, databaseSchema));
  }
  t.after(() => deleteKeysWithPrefix(prefix));
  return {
    prefix,
    databaseSchema,
    env: {
      DATABASE_URL: postgresUrl ?? 'sqlite::memory:',
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      ...env,
    },
  };
}

/** An app instance on the given storage, closed when the test ends (before the storage is removed). */
export async function startTestApp(t: TestContext, storage: TestStorage): Promise<FastifyInstance> {
  const app = await buildApp(loadConfig(storage.env), storage.databaseSchema ? { databaseSchema: storage.databaseSchema } : {});
  await app.ready();
  await app.spamReports.settled();
  t.after(() => app.close());
  return app;
}

export async function buildTestApp(t: TestContext, env: Env = {}): Promise<TestApp> {
  const storage = await createTestStorage(t, env);
  const app = await startTestApp(t, storage);
  const redis = redisWithPrefix(storage.prefix);
  t.after(() => redis.disconnect());
  return { app, redis, prefix: storage.prefix };
}
