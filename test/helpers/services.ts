/**
 * The real services tests talk to: Redis at REDIS_URL (default the local one) and, when
 * TEST_DATABASE_URL is set and TEST_DIALECT=postgres, PostgreSQL. Each test gets its own Redis key
 * prefix and its own PostgreSQL schema, and removes only what it created.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** Which database this run of the suite uses (the test script runs it once per dialect). */
export function testDatabaseUrl(): string | undefined {
  return process.env.TEST_DIALECT === 'postgres' ? process.env.TEST_DATABASE_URL : undefined;
}

export function uniqueName(kind: string): string {
  return `${kind}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** A Redis client that sees keys the way the app under test does (same prefix). */
export function redisWithPrefix(prefix: string): Redis {
  return new Redis(REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
}

/** Deletes every key under a test's prefix. */
export async function deleteKeysWithPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function createSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await client.end();
  }
}

export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
