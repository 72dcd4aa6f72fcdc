/**
 * `npm run bench`: starts the built service (production settings, a fresh SQLite file, Redis from
 * REDIS_URL under a key prefix of its own, logs at warn) and a bare node:http server, drives each
 * with autocannon, and prints req/s, latency and the ratio to the bare server, measured in one run.
 *
 *   npm run bench -- --duration 10 --connections 16 --only list,create --json
 *
 * Workloads: create (POST /msg/create/), list (GET /msg/list/?limit=10), read and spam (PUT a batch of
 * 10 ids), folder (GET /users/{id}/messages?limit=50 on a mailbox of 10,000 messages).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
    'sqlite-synchronous': { type: 'string' },
  },
});
const duration = Number(options.duration);
const connections = Number(options.connections);
const log = (line: string) => {
  if (!options.json) console.log(line);
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitUntilUp(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up`);
}

function residentMegabytes(pid: number): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return match ? Number(match[1]) / 1024 : 0;
}

const BARE_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ Hello: 'World' });
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

interface Workload {
  name: string;
  path: string;
  method: 'GET' | 'POST' | 'PUT';
  bodies?: string[];
}

interface Measurement {
  workload: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  ratio: number;
  maxRssMb: number;
}

async function measure(baseUrl: string, workload: Workload, pid: number): Promise<Omit<Measurement, 'ratio'>> {
  let next = 0;
  let maxRss = residentMegabytes(pid);
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, residentMegabytes(pid))), 200);
  const result = await autocannon({
    url: baseUrl,
    connections,
    duration,
    requests: [
      {
        method: workload.method,
        path: workload.path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          if (!workload.bodies) return request;
          const body = workload.bodies[next % workload.bodies.length];
          next += 1;
          return { ...request, body };
        },
      },
    ],
  });
  clearInterval(sampler);
  return {
    workload: workload.name,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    maxRssMb: Math.round(maxRss),
  };
}

async function post(baseUrl: string, path: string, body: unknown): Promise<{ id: number }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`seeding ${path} failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: number };
}

async function seed(baseUrl: string) {
  const users: { id: number }[] = [];
  for (let index = 0; index < 20; index += 1) users.push(await post(baseUrl, '/users/', { email: `bench${index}@example.com`, password: 'bench-password' }));
  const messageIds: number[] = [];
  // 2,000 messages from 10 senders to 10 recipients, sent 16 at a time.
  const sends = Array.from({ length: 2000 }, (_, index) => ({
    from_userid: users[index % 10]!.id,
    to_userid: users[10 + ((index >> 3) % 10)]!.id,
    subject: `Seed ${index}`,
    message: 'A message body of ordinary length for the benchmark.',
  }));
  for (let start = 0; start < sends.length; start += 16) {
    const created = await Promise.all(sends.slice(start, start + 16).map((body) => post(baseUrl, '/msg/create/', body)));
    messageIds.push(...created.map((message) => message.id));
  }
  const batches = Array.from({ length: messageIds.length / 10 }, (_, index) => messageIds.slice(index * 10, index * 10 + 10));
  // One mailbox of 10,000 messages for the folder view.
  const heavy = users[19]!.id;
  const mail = Array.from({ length: 10_000 }, (_, index) => ({ from_userid: users[index % 10]!.id, to_userid: heavy, subject: `Mail ${index}`, message: 'Hello' }));
  for (let start = 0; start < mail.length; start += 32) {
    await Promise.all(mail.slice(start, start + 32).map((body) => post(baseUrl, '/msg/create/', body)));
  }
  return { users, batches, heavy };
}

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const KEY_PREFIX = `bench:${process.pid}:`;

/** Removes the counters and rate-limit keys this run wrote, and nothing else. */
async function deleteBenchKeys(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // no Redis: nothing was written
  } finally {
    redis.disconnect();
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'inbox-bench-'));
  const children: ChildProcess[] = [];
  const stopAll = () => children.forEach((child) => child.kill('SIGTERM'));
  process.on('exit', stopAll);
  try {
    const barePort = await freePort();
    const bare = spawn(process.execPath, ['-e', BARE_SERVER], { env: { ...process.env, PORT: String(barePort) }, stdio: 'inherit' });
    children.push(bare);

    const servicePort = await freePort();
    const service = spawn(process.execPath, ['dist/server.js'], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(servicePort),
        HOST: '127.0.0.1',
        DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`,
        REDIS_URL,
        REDIS_KEY_PREFIX: KEY_PREFIX,
        LOG_LEVEL: 'warn',
        // The benchmark measures the service, not its abuse limits (one sender sends thousands a second).
        RATE_LIMIT_MESSAGES_PER_MINUTE: '0',
        RATE_LIMIT_SIGNUP_PER_MINUTE: '0',
        ...(options['sqlite-synchronous'] ? { SQLITE_SYNCHRONOUS: options['sqlite-synchronous'] } : {}),
      },
      stdio: 'inherit',
    });
    children.push(service);

    const bareUrl = `http://127.0.0.1:${barePort}`;
    const serviceUrl = `http://127.0.0.1:${servicePort}`;
    await Promise.all([waitUntilUp(bareUrl), waitUntilUp(serviceUrl)]);
    log(`seeding ${serviceUrl} …`);
    const { users, batches, heavy } = await seed(serviceUrl);

    const workloads: Workload[] = [
      {
        name: 'create',
        method: 'POST',
        path: '/msg/create/',
        bodies: [JSON.stringify({ from_userid: users[0]!.id, to_userid: users[10]!.id, subject: 'Bench', message: 'Hello from autocannon' })],
      },
      { name: 'list', method: 'GET', path: '/msg/list/?limit=10' },
      { name: 'read', method: 'PUT', path: '/msg/list/', bodies: batches.map((ids) => JSON.stringify({ message_id_list: ids, read: 'true' })) },
      { name: 'spam', method: 'PUT', path: '/msg/list/', bodies: batches.map((ids) => JSON.stringify({ message_id_list: ids, spam: 'true' })) },
      { name: 'folder', method: 'GET', path: `/users/${heavy}/messages?limit=50` },
    ];
    const selected = options.only ? workloads.filter((workload) => options.only!.split(',').includes(workload.name)) : workloads;

    log(`bare node:http, ${connections} connections, ${duration} s …`);
    const baseline = await measure(bareUrl, { name: 'bare', method: 'GET', path: '/' }, bare.pid!);
    const results: Measurement[] = [{ ...baseline, ratio: 1 }];
    for (const workload of selected) {
      log(`${workload.name} …`);
      const measured = await measure(serviceUrl, workload, service.pid!);
      results.push({ ...measured, ratio: Math.round((measured.requestsPerSecond / baseline.requestsPerSecond) * 100) / 100 });
    }

    if (options.json) {
      console.log(JSON.stringify({ connections, durationSeconds: duration, results }, null, 2));
    } else {
      console.log(`\n| workload | req/s | p50 ms | p99 ms | errors | ratio to bare | max RSS MB |`);
      console.log(`|---|---:|---:|---:|---:|---:|---:|`);
      for (const row of results) {
        console.log(`| ${row.workload} | ${row.requestsPerSecond} | ${row.p50} | ${row.p99} | ${row.errors} | ${row.ratio.toFixed(2)} | ${row.maxRssMb} |`);
      }
    }
    const failed = results.some((row) => row.errors > 0);
    if (failed) console.error('some requests failed (non-2xx or errors): see the errors column');
    process.exitCode = failed ? 1 : 0;
  } finally {
    stopAll();
    rmSync(dir, { recursive: true, force: true });
    await deleteBenchKeys();
  }
}

await main();
