/**
 * WEB_CONCURRENCY=N: one port served by N worker processes (node:cluster). What workers share stays
 * exact (the database, the spam counters in Redis, push through Redis pub/sub); a worker that dies is
 * replaced; SIGTERM stops them all; and a setting that would give each worker its own copy of
 * something that must be one is refused at start with a message that says why.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { get } from 'node:http';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startService } from '../helpers/service-process.js';
import { deleteKeysWithPrefix, eventually, REDIS_URL, redisWithPrefix, SQLITE_PASS_ONLY, tempDatabaseUrl, uniqueName } from '../helpers/services.js';

const run = promisify(execFile);

/**
 * The worker processes of a primary, by pid: its children that run the server (tsx may give the
 * primary another child, esbuild's transform service, which is not a worker).
 */
async function workersOf(pid: number): Promise<number[]> {
  try {
    const { stdout } = await run('ps', ['--ppid', String(pid), '-o', 'pid=,args=']);
    return stdout
      .split('\n')
      .filter((line) => line.includes('server.ts'))
      .map((line) => Number(line.trim().split(/\s+/)[0]));
  } catch {
    return [];
  }
}

async function json<T>(response: Promise<Response>): Promise<T> {
  const answer = await response;
  assert.ok(answer.ok, `${answer.status} ${await answer.clone().text()}`);
  return (await answer.json()) as T;
}

/**
 * A GET on a connection of its own (a pooled keep-alive connection to the worker just killed would
 * fail), given up after 2 s: a connection the primary handed to a worker at the moment it died is lost.
 */
function statusOnNewConnection(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('two workers on one port: spam counters and push stay exact across them, a dead worker is replaced, SIGTERM stops all', { skip: SQLITE_PASS_ONLY, timeout: 150_000 }, async (t) => {
  const prefix = `${uniqueName('cluster')}:`;
  t.after(() => deleteKeysWithPrefix(prefix));
  const service = await startService({ WEB_CONCURRENCY: '2', DATABASE_URL: tempDatabaseUrl(t), REDIS_URL, REDIS_KEY_PREFIX: prefix });
  t.after(() => service.child.kill('SIGKILL'));
  const primary = service.child.pid ?? 0;
  await eventually(async () => (await workersOf(primary)).length === 2, 60_000, 'two workers').catch(async (error: unknown) => {
    const { stdout } = await run('ps', ['-eo', 'pid,ppid,stat,cmd']).catch(() => ({ stdout: '' }));
    throw new Error(`${String(error)}; primary ${primary}; the service said: ${service.output()}; processes: ${stdout.split('\n').filter((line) => line.includes('server.ts')).join(' | ')}`);
  });

  // Every worker migrates and serves the same SQLite file.
  const sender = await json<{ id: number }>(post(`${service.url}/users/`, { email: `${uniqueName('s')}@example.com`, password: 'secret-password' }));
  const recipients = await Promise.all(
    Array.from({ length: 12 }, () => json<{ id: number }>(post(`${service.url}/users/`, { email: `${uniqueName('r')}@example.com`, password: 'secret-password' }))),
  );

  // A stream on one connection, then sends on fresh connections (the primary hands connections round-robin to the workers).
  const watched = recipients[0]!;
  const controller = new AbortController();
  t.after(() => controller.abort());
  const stream = await fetch(`${service.url}/users/${watched.id}/events`, { signal: controller.signal });
  assert.equal(stream.status, 200);
  const reader = stream.body!.getReader();
  let seen = '';
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      seen += new TextDecoder().decode(value);
    }
  })().catch(() => {});

  // Twelve recipients each report two messages from the sender at once, across both workers: the counter counts people.
  const messages = await Promise.all(
    recipients.flatMap((recipient) =>
      [1, 2].map(() => json<{ id: number; to_userid: number }>(post(`${service.url}/msg/create/`, { from_userid: sender.id, to_userid: recipient.id, subject: 's', message: 'm' }))),
    ),
  );
  await Promise.all(
    messages.map((message) =>
      fetch(`${service.url}/msg/list/`, { method: 'PUT', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ message_id_list: [message.id], spam: 'true' }) }),
    ),
  );
  const redis = redisWithPrefix(prefix);
  t.after(() => redis.disconnect());
  await eventually(async () => (await redis.get(`msg:spam-reports:uid:${sender.id}`)) === '12', 10_000, 'the counter at 12');

  // The watched recipient's stream heard its two messages and its two reports, whichever worker served them.
  const folders = await fetch(`${service.url}/users/${watched.id}/folders`);
  const state = folders.headers.get('mailbox-state') ?? '';
  await eventually(async () => seen.includes(`"state":"${state}"`), 5_000, 'the stream reaching the latest state');
  controller.abort();
  await reading;

  // A worker killed outright is replaced; the port keeps answering meanwhile.
  const [victim] = await workersOf(primary);
  process.kill(victim!, 'SIGKILL');
  let answered = 0;
  for (let attempt = 0; attempt < 20 && answered < 10; attempt += 1) if ((await statusOnNewConnection(`${service.url}/`)) === 200) answered += 1;
  assert.equal(answered, 10, 'ten answers while a worker is replaced');
  await eventually(async () => {
    const workers = await workersOf(primary);
    return workers.length === 2 && !workers.includes(victim!);
  }, 30_000, 'a new worker in place of the killed one');

  const started = Date.now();
  service.child.kill('SIGTERM');
  assert.equal(await service.exited, 0);
  assert.ok(Date.now() - started < 5_000, `stopped in ${Date.now() - started} ms`);
  assert.deepEqual(await workersOf(primary), []);
});

for (const [setting, env, reason] of [
  ['an in-memory SQLite database', { DATABASE_URL: 'sqlite::memory:', REDIS_URL }, /sqlite::memory: is a database per process/],
  ['SQLite without Redis', { DATABASE_URL: 'FILE', REDIS_URL: '' }, /on SQLite needs REDIS_URL/],
  ['a worker count that is not one', { WEB_CONCURRENCY: 'many', DATABASE_URL: 'FILE', REDIS_URL }, /WEB_CONCURRENCY.*from 1 to 256, or auto/],
] as const) {
  test(`WEB_CONCURRENCY=2 with ${setting} stops the start, saying why`, { skip: SQLITE_PASS_ONLY }, async (t) => {
    const databaseUrl = env.DATABASE_URL === 'FILE' ? tempDatabaseUrl(t) : env.DATABASE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', WEB_CONCURRENCY: '2', ...env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1, output);
    assert.match(output, reason);
  });
}
