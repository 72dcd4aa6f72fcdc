/**
 * Two service processes on one SQLite file, as during an overlapping restart: they start at the
 * same moment (both migrate a fresh file), then take 400 concurrent batch updates on shared
 * messages and some creates, split between them. Writers from both processes queue for SQLite's
 * write lock instead of being refused: every answer is 200, nothing is lost, the spam ledger agrees
 * with the spam folders (as far as the contract's rules let a final state say) and the counters with the ledger.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import SqliteDatabase from '../../src/db/better-sqlite3.js';
import { createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessages } from '../helpers/factories.js';
import { startService } from '../helpers/service-process.js';
import { SQLITE_PASS_ONLY } from '../helpers/services.js';

const UPDATES = 400;
const SHARED_MESSAGES = 60;
const CREATES_DURING = 40;

interface Answer {
  status: number;
  body: string;
}

async function send(url: string, method: string, payload: unknown): Promise<Answer> {
  try {
    const response = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return { status: 0, body: String(error) };
  }
}

/** A small seeded generator (mulberry32), so every run sends the same batches. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Opens (and so migrates) each database in argv[2…] in turn, the first once the clock reaches
 * argv[1], the next ones ROUND_MS apart, as a service start does.
 */
const ROUND_MS = 500;
const MIGRATE_AT = `
import { pino } from 'pino';
import { openDatabase } from './src/plugins/db.js';
const [at, ...urls] = process.argv.slice(1);
for (const [round, url] of urls.entries()) {
  await new Promise((resolve) => setTimeout(resolve, Number(at) + round * ${ROUND_MS} - Date.now()));
  const { db } = await openDatabase({ url, log: pino({ level: 'silent' }) });
  await db.destroy();
}
`;

function migrateAt(at: number, urls: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const args = ['--import', 'tsx', '--input-type=module', '-e', MIGRATE_AT, String(at), ...urls];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('two processes on one SQLite file', { skip: SQLITE_PASS_ONLY }, () => {
  test('four processes migrating a new file at the same instant all succeed, and each migration runs once', { timeout: 60_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'inbox-migrate-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // Without a lock, about one round in three failed here ("table users already exists"): four rounds.
    const files = Array.from({ length: 4 }, (_, round) => join(dir, `round${round}.db`));
    // Far enough ahead for all four processes to have loaded, so that they really start together.
    const at = Date.now() + 3000;
    const results = await Promise.all(Array.from({ length: 4 }, () => migrateAt(at, files.map((file) => `sqlite:${file}`))));
    results.forEach((result, index) => assert.equal(result.code, 0, `process ${index}: ${result.output}`));
    for (const file of files) {
      const db = new SqliteDatabase(file, { readonly: true });
      try {
        const names = (db.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as { name: string }[]).map((row) => row.name);
        assert.ok(names.length >= 4 && names[0] === '0001-initial', names.join(', '));
        assert.equal(new Set(names).size, names.length);
        assert.equal((db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'messages'").get() as { n: number }).n, 1);
      } finally {
        db.close();
      }
    }
  });

  test('while another process holds the write lock past DATABASE_TIMEOUT_MS, a write answers 503 with Retry-After, reads still work, and the write succeeds once the lock is free', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'inbox-locked-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'inbox.db');
    const app = await startTestApp(t, await createTestStorage(t, { DATABASE_URL: `sqlite:${file}`, REDIS_URL: '', DATABASE_TIMEOUT_MS: '300' }));
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const ids = await sendMessages(app, sender.id, recipient.id, 2);

    // The other process: a connection of the test's own that takes the write lock and keeps it.
    const other = new SqliteDatabase(file);
    t.after(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    const refused = await batchUpdate(app, { message_id_list: ids, spam: 'true' });
    const waited = Date.now() - started;
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.body, '{"detail":"Service unavailable"}');
    assert.match(String(refused.headers['retry-after']), /^[1-9]\d*$/);
    assert.ok(waited >= 250 && waited < 1300, `answered after ${waited} ms`);
    // WAL: readers do not wait for the writer.
    assert.equal((await app.inject({ method: 'GET', url: '/msg/list/' })).statusCode, 200);

    other.exec('ROLLBACK');
    assert.equal((await batchUpdate(app, { message_id_list: ids, spam: 'true' })).statusCode, 200);
    const folders = other.prepare(`SELECT folder FROM messages WHERE id IN (${ids.join(',')})`).all() as { folder: string }[];
    assert.deepEqual(folders, [{ folder: 'spam' }, { folder: 'spam' }]);
  });

  test('400 concurrent batch updates and 40 creates split across both: every answer 200, nothing lost, ledger and folders agree', { timeout: 120_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'inbox-two-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'inbox.db');
    const env = { DATABASE_URL: `sqlite:${file}`, REDIS_URL: '', RATE_LIMIT_MESSAGES_PER_MINUTE: '0', RATE_LIMIT_SIGNUP_PER_MINUTE: '0' };
    // Started at the same moment on a file that does not exist yet: both migrate it at once.
    const starts = await Promise.allSettled([startService(env), startService(env)]);
    const services = starts.flatMap((start) => (start.status === 'fulfilled' ? [start.value] : []));
    for (const service of services) t.after(() => service.child.kill('SIGKILL'));
    const failed = starts.find((start) => start.status === 'rejected');
    if (failed) throw failed.reason;
    const urls = services.map((service) => service.url);
    const urlFor = (index: number) => urls[index % 2] as string;

    const users = await Promise.all(
      Array.from({ length: 6 }, async (_, index) => {
        const answer = await send(`${urlFor(index)}/users/`, 'POST', { email: `user${index}-${Date.now()}@example.com`, password: 'password-1' });
        assert.equal(answer.status, 200, answer.body);
        return (JSON.parse(answer.body) as { id: number }).id;
      }),
    );
    const senders = users.slice(0, 3);
    const recipients = users.slice(3);
    const pairOf = (index: number) => ({ from_userid: senders[index % 3] as number, to_userid: recipients[Math.floor(index / 3) % 3] as number });

    const created: { id: number; subject: string; from: number; to: number }[] = [];
    const create = async (index: number, subject: string) => {
      const pair = pairOf(index);
      const answer = await send(`${urlFor(index)}/msg/create/`, 'POST', { ...pair, subject, message: 'm' });
      if (answer.status === 200) created.push({ id: (JSON.parse(answer.body) as { id: number }).id, subject, from: pair.from_userid, to: pair.to_userid });
      return answer;
    };
    const shared = await Promise.all(Array.from({ length: SHARED_MESSAGES }, (_, index) => create(index, `shared-${index}`)));
    assert.deepEqual(shared.filter((answer) => answer.status !== 200), [], 'creating the shared messages');
    const sharedIds = created.map((message) => message.id);

    // 400 batches of 1 to 10 shared messages with random flags, and 40 creates, all in flight at once.
    const next = random(12);
    const pick = <T>(values: readonly T[]) => values[Math.floor(next() * values.length)] as T;
    const batches = Array.from({ length: UPDATES }, () => {
      const ids = [...new Set(Array.from({ length: 1 + Math.floor(next() * 10) }, () => pick(sharedIds)))];
      const flags: Record<string, string> = {};
      for (const flag of ['read', 'trash', 'spam']) {
        const value = pick([undefined, 'true', 'false']);
        if (value) flags[flag] = value;
      }
      if (Object.keys(flags).length === 0) flags.spam = 'true';
      return { message_id_list: ids, ...flags };
    });
    const started = Date.now();
    const answers = await Promise.all([
      ...batches.map((batch, index) => send(`${urlFor(index)}/msg/list/`, 'PUT', batch)),
      ...Array.from({ length: CREATES_DURING }, (_, index) => create(index, `during-${index}`)),
    ]);
    t.diagnostic(`${answers.length} requests across two processes in ${Date.now() - started} ms`);

    const refused = answers.filter((answer) => answer.status !== 200);
    assert.deepEqual(refused.slice(0, 5), [], `${refused.length} of ${answers.length} requests were not answered 200`);
    for (const service of services) assert.equal(service.child.exitCode, null, service.output());

    // Nothing lost: every created message is in the file as created, and the file is sound.
    const db = new SqliteDatabase(file, { readonly: true });
    t.after(() => db.close());
    assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    const rows = db.prepare('SELECT id, from_userid, to_userid, subject, folder, unread FROM messages').all() as {
      id: number;
      from_userid: number;
      to_userid: number;
      subject: string;
      folder: string;
      unread: string;
    }[];
    const stored = new Map(rows.map((row) => [row.id, row]));
    assert.equal(rows.length, SHARED_MESSAGES + CREATES_DURING);
    for (const message of created) {
      const row = stored.get(message.id);
      assert.deepEqual(row && { subject: row.subject, from: row.from_userid, to: row.to_userid }, { subject: message.subject, from: message.from, to: message.to });
    }
    for (const row of rows) {
      assert.ok(['inbox', 'trash', 'spam'].includes(row.folder) && ['Y', 'N'].includes(row.unread), `message ${row.id} is ${row.folder}/${row.unread}`);
    }

    // The ledger against the folders: every (recipient, sender) pair with a message in spam is reported.
    // A report can also outlive its pair's last spam message, when that message left spam by a trash
    // flag alone (the contract's rules move it; only `spam: false` withdraws, README "Spam reports"):
    // then a batch of this run must have moved one of the pair's messages by trash and none withdrew
    // the pair since, which the order of two processes does not let us replay; so such a report must
    // at least be for a pair whose messages were reported and moved by trash flags in this run.
    const ledger = new Set((db.prepare('SELECT reporter_id, sender_id FROM spam_reports').all() as { reporter_id: number; sender_id: number }[]).map((row) => `${row.reporter_id}<-${row.sender_id}`));
    const inSpam = new Set(rows.filter((row) => row.folder === 'spam').map((row) => `${row.to_userid}<-${row.from_userid}`));
    const pairOfMessage = new Map(rows.map((row) => [row.id, `${row.to_userid}<-${row.from_userid}`]));
    const pairsWith = (has: (batch: (typeof batches)[number]) => boolean) =>
      new Set(batches.filter(has).flatMap((batch) => batch.message_id_list.map((id) => pairOfMessage.get(id))));
    const flag = (batch: (typeof batches)[number], name: string) => (batch as Record<string, unknown>)[name];
    const reported = pairsWith((batch) => flag(batch, 'spam') === 'true');
    const trashedWithoutSpamFlag = pairsWith((batch) => flag(batch, 'trash') !== undefined && flag(batch, 'spam') === undefined);
    assert.deepEqual([...inSpam].filter((pair) => !ledger.has(pair)), [], 'pairs with a message in spam but no report');
    const outlived = [...ledger].filter((pair) => !inSpam.has(pair));
    const unexplained = outlived.filter((pair) => !reported.has(pair) || !trashedWithoutSpamFlag.has(pair));
    const folders = (pair: string) => rows.filter((row) => `${row.to_userid}<-${row.from_userid}` === pair).map((row) => `${row.id}:${row.folder}`);
    assert.deepEqual(unexplained.map((pair) => `${pair} ${folders(pair).join(' ')}`), [], 'reports with no message in spam and no trash move to explain them');
    assert.ok(inSpam.size > 0, 'some reports stand at the end');
    for (const sender of senders) {
      const reporters = [...ledger].filter((pair) => pair.endsWith(`<-${sender}`)).length;
      for (const url of urls) {
        const answer = await fetch(`${url}/users/${sender}/spam-reports`);
        assert.deepEqual(await answer.json(), { user_id: sender, reported_by: reporters }, `sender ${sender} through ${url}`);
      }
    }

    // Both processes see the same, final state.
    const listed = await Promise.all(urls.map(async (url) => (await fetch(`${url}/msg/list/?skip=0&limit=1000`)).json()));
    assert.deepEqual(listed[0], listed[1]);
    assert.equal((listed[0] as unknown[]).length, rows.length);
  });
});
