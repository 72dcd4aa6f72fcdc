/**
 * `npm run soak`: a few minutes of mixed traffic against one started instance (SQLite file, Redis
 * from REDIS_URL under a key prefix of its own), from several users at once. The script keeps its own
 * model of every message and every spam report, then checks each message's stored state and each
 * sender's counter (Redis and ledger) against it, and prints what it checked and the mismatches.
 *
 *   npm run soak -- --duration 180 --users 8
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import SqliteDatabase from '../src/db/better-sqlite3.js';

const { values: options } = parseArgs({
  options: { duration: { type: 'string', default: '120' }, users: { type: 'string', default: '8' }, seed: { type: 'string', default: '1' } },
});
const durationMs = Number(options.duration) * 1000;
const userCount = Number(options.users);

// A small deterministic generator, so a run can be repeated with --seed.
let state = Number(options.seed) >>> 0 || 1;
function random(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

type Folder = 'inbox' | 'trash' | 'spam';
interface ModelMessage {
  id: number;
  from: number;
  to: number;
  folder: Folder;
  unread: 'Y' | 'N';
}

/** The contract's rules for the folders this traffic produces, written independently of src/. */
function apply(message: ModelMessage, flags: { read?: boolean; trash?: boolean; spam?: boolean }) {
  if (flags.trash !== undefined) message.folder = flags.trash ? 'trash' : 'inbox';
  if (flags.spam !== undefined) message.folder = flags.spam ? 'spam' : 'inbox';
  if (flags.read !== undefined) message.unread = flags.read ? 'N' : 'Y';
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'inbox-soak-'));
  const prefix = `soak:${process.pid}:`;
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const service = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(dir, 'soak.db')}`,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_MESSAGES_PER_MINUTE: '0',
      RATE_LIMIT_SIGNUP_PER_MINUTE: '0',
    },
    stdio: 'inherit',
  });
  const redis = new Redis(redisUrl, { keyPrefix: prefix });
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        if ((await fetch(`${base}/`)).ok) break;
      } catch {
        if (attempt > 200) throw new Error('service did not start');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const users: number[] = [];
    for (let index = 0; index < userCount; index += 1) {
      users.push(((await call(`${base}/users/`, 'POST', { email: `soak${index}@example.com`, password: 'password-1' })).json as { id: number }).id);
    }

    const messages = new Map<number, ModelMessage>();
    const reported = new Set<string>(); // `${recipient}:${sender}`
    const counts = { requests: 0, creates: 0, batches: 0, failures: 0 };
    const deadline = Date.now() + durationMs;
    console.log(`soak: ${userCount} users for ${options.duration} s against ${base}`);

    // One worker per recipient, each acting in sequence on its own mailbox: the model stays exact
    // while the workers run in parallel against each other.
    await Promise.all(
      users.map(async (recipient) => {
        const mine = () => [...messages.values()].filter((message) => message.to === recipient);
        while (Date.now() < deadline) {
          counts.requests += 1;
          if (random() < 0.35 || mine().length < 10) {
            const sender = pick(users.filter((user) => user !== recipient));
            const result = await call(`${base}/msg/create/`, 'POST', { from_userid: sender, to_userid: recipient, subject: 's', message: 'm' });
            if (result.status !== 200) {
              counts.failures += 1;
              continue;
            }
            const id = (result.json as { id: number }).id;
            messages.set(id, { id, from: sender, to: recipient, folder: 'inbox', unread: 'Y' });
            counts.creates += 1;
            continue;
          }
          const chosen = [...new Set(Array.from({ length: 1 + Math.floor(random() * 10) }, () => pick(mine())))];
          const flags: { read?: boolean; trash?: boolean; spam?: boolean } = {};
          for (const flag of ['read', 'trash', 'spam'] as const) {
            const roll = random();
            if (roll < 0.3) flags[flag] = true;
            else if (roll < 0.55) flags[flag] = false;
          }
          const body = {
            message_id_list: chosen.map((message) => message.id),
            ...Object.fromEntries(Object.entries(flags).map(([flag, value]) => [flag, String(value)])),
          };
          const result = await call(`${base}/msg/list/`, 'PUT', body);
          if (result.status !== 200) {
            counts.failures += 1;
            continue;
          }
          counts.batches += 1;
          for (const message of chosen) apply(message, flags);
          if (flags.spam === true) for (const message of chosen) reported.add(`${recipient}:${message.from}`);
          if (flags.spam === false) {
            for (const sender of new Set(chosen.map((message) => message.from))) {
              if (!mine().some((message) => message.from === sender && message.folder === 'spam')) reported.delete(`${recipient}:${sender}`);
            }
          }
        }
      }),
    );

    const db = new SqliteDatabase(join(dir, 'soak.db'), { readonly: true });
    let mismatches = 0;
    const stored = db.prepare('SELECT id, folder, unread FROM messages').all() as { id: number; folder: string; unread: string }[];
    for (const row of stored) {
      const expected = messages.get(row.id);
      if (!expected || expected.folder !== row.folder || expected.unread !== row.unread) {
        mismatches += 1;
        if (mismatches <= 10) console.log(`message ${row.id}: stored ${row.folder}/${row.unread}, model ${expected ? `${expected.folder}/${expected.unread}` : 'none'}`);
      }
    }
    if (stored.length !== messages.size) {
      mismatches += 1;
      console.log(`stored ${stored.length} messages, model ${messages.size}`);
    }
    for (const sender of users) {
      const expected = [...reported].filter((pair) => pair.endsWith(`:${sender}`)).length;
      const counter = Number((await redis.get(`msg:spam-reports:uid:${sender}`)) ?? 0);
      const ledger = (db.prepare('SELECT count(*) AS n FROM spam_reports WHERE sender_id = ?').get(sender) as { n: number }).n;
      if (counter !== expected || ledger !== expected) {
        mismatches += 1;
        console.log(`sender ${sender}: counter ${counter}, ledger ${ledger}, model ${expected}`);
      }
    }
    db.close();
    console.log(
      `checked ${stored.length} messages and ${users.length} spam counters after ${counts.requests} requests ` +
        `(${counts.creates} creates, ${counts.batches} batch updates, ${counts.failures} failed requests)`,
    );
    console.log(`${mismatches} mismatches`);
    process.exitCode = mismatches === 0 && counts.failures === 0 ? 0 : 1;
  } finally {
    service.kill('SIGTERM');
    await new Promise((resolve) => service.once('exit', resolve));
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await new Redis(redisUrl).del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
