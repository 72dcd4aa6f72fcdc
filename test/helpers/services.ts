/**
 * The real services tests talk to: Redis at REDIS_URL (default the local one) and, when
 * TEST_DATABASE_URL is set and TEST_DIALECT=postgres, PostgreSQL. Each test gets its own Redis key
 * prefix and its own PostgreSQL schema, and removes only what it created.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of the test's own, which it may stop, restart or flush without touching anyone else's data. */
export interface PrivateRedis {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing, like a hung Redis */
  pause(): void;
  resume(): void;
}

export async function privateRedis(): Promise<PrivateRedis> {
  const { spawn } = await import('node:child_process');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ReturnType<typeof spawn> | undefined;
  const ping = async () => {
    const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  };
  const redis: PrivateRedis = {
    url,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      for (let attempt = 0; attempt < 100; attempt += 1) {
        if (await ping()) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`private redis-server on port ${port} did not start`);
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve());
        running.kill('SIGKILL');
        running.kill('SIGCONT');
      });
    },
  };
  await redis.start();
  return redis;
}

/** Polls until `check` holds, or fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000, message = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
}

/**
 * For tests that do not touch the suite's database (they run the service on a SQLite file of their
 * own): run them in the SQLite pass only, not again in the PostgreSQL pass.
 */
export const SQLITE_PASS_ONLY: string | false =
  process.env.TEST_DIALECT === 'postgres' ? 'independent of the database under test: runs in the SQLite pass' : false;

/** A SQLite file of its own (a database a command-line tool or a second process can open too), removed when the test ends. */
export function tempDatabaseUrl(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'inbox-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, 'inbox.db')}`;
}
