/**
 * The real service as a process on a SQLite file: killed with SIGKILL under load, every write it
 * acknowledged is there after a restart, exactly as acknowledged, and no batch is half-applied.
 * Stopped with SIGTERM, it finishes the requests in flight and exits 0.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import SqliteDatabase from '../../src/db/better-sqlite3.js';
import { postJson, startService } from '../helpers/service-process.js';
import { deleteKeysWithPrefix, REDIS_URL, SQLITE_PASS_ONLY, uniqueName } from '../helpers/services.js';

function tempDir(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'inbox-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('crashes and shutdown', { skip: SQLITE_PASS_ONLY }, () => {
  test('after SIGKILL mid-load, every acknowledged write survives exactly and no batch is half-applied', async (t) => {
    const dir = tempDir(t);
    const prefix = `${uniqueName('crash')}:`;
    t.after(() => deleteKeysWithPrefix(prefix));
    const env = {
      DATABASE_URL: `sqlite:${join(dir, 'inbox.db')}`,
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      RATE_LIMIT_MESSAGES_PER_MINUTE: '0',
    };
    const service = await startService(env);
    t.after(() => service.child.kill('SIGKILL'));

    const sender = (await postJson(`${service.url}/users/`, { email: `${uniqueName('s')}@example.com`, password: 'password-1' })).body as { id: number };
    const recipient = (await postJson(`${service.url}/users/`, { email: `${uniqueName('r')}@example.com`, password: 'password-1' })).body as { id: number };
    const groups: number[][] = [];
    for (let group = 0; group < 30; group += 1) {
      const ids: number[] = [];
      for (let index = 0; index < 10; index += 1) {
        const created = await postJson(`${service.url}/msg/create/`, { from_userid: sender.id, to_userid: recipient.id, subject: `g${group}`, message: `m${index}` });
        ids.push((created.body as { id: number }).id);
      }
      groups.push(ids);
    }

    // Load: creates and spam batches in parallel, each acknowledgement recorded; then the kill.
    const acknowledgedCreates: { id: number; subject: string }[] = [];
    const acknowledgedBatches: number[] = [];
    let stop = false;
    const creates = (async () => {
      for (let index = 0; !stop; index += 1) {
        const subject = `load-${index}`;
        const sent = postJson(`${service.url}/msg/create/`, { from_userid: sender.id, to_userid: recipient.id, subject, message: 'x' });
        const result = await sent.catch(() => undefined);
        if (result?.status === 200) acknowledgedCreates.push({ id: (result.body as { id: number }).id, subject });
        else if (result) assert.fail(`create answered ${result.status}`);
      }
    })();
    const batches = Promise.all(
      groups.map(async (ids, group) => {
        await new Promise((resolve) => setTimeout(resolve, group * 8));
        const result = await postJson(`${service.url}/msg/list/`, { message_id_list: ids, spam: 'true', read: 'true' }, 'PUT').catch(() => undefined);
        if (result?.status === 200) acknowledgedBatches.push(group);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    service.child.kill('SIGKILL');
    stop = true;
    await Promise.all([creates, batches, service.exited]);
    assert.ok(acknowledgedCreates.length > 0 && acknowledgedBatches.length > 0, 'the kill came before any load was acknowledged');

    const restarted = await startService(env);
    t.after(() => restarted.child.kill('SIGKILL'));
    assert.equal((await fetch(`${restarted.url}/`)).status, 200);
    const db = new SqliteDatabase(join(dir, 'inbox.db'), { readonly: true });
    t.after(() => db.close());

    for (const { id, subject } of acknowledgedCreates) {
      const row = db.prepare('SELECT subject, message, folder, unread FROM messages WHERE id = ?').get(id);
      assert.deepEqual(row, { subject, message: 'x', folder: 'inbox', unread: 'Y' }, `acknowledged message ${id}`);
    }
    const states = groups.map((ids) =>
      (db.prepare(`SELECT folder, unread FROM messages WHERE id IN (${ids.join(',')})`).all() as { folder: string; unread: string }[]).map(
        (row) => `${row.folder}/${row.unread}`,
      ),
    );
    states.forEach((group, index) => {
      assert.equal(new Set(group).size, 1, `batch ${index} half-applied: ${group.join(' ')}`);
      if (acknowledgedBatches.includes(index)) assert.equal(group[0], 'spam/N', `acknowledged batch ${index} lost`);
    });
    const anyInSpam = states.some((group) => group[0] === 'spam/N');
    const ledger = db.prepare('SELECT count(*) AS n FROM spam_reports WHERE reporter_id = ? AND sender_id = ?').get(recipient.id, sender.id) as { n: number };
    assert.equal(ledger.n, anyInSpam ? 1 : 0, 'the ledger matches the folders');
  });

  test('SIGTERM lets the requests in flight finish, then the process exits 0', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'inbox.db');
    const service = await startService({ DATABASE_URL: `sqlite:${file}`, REDIS_URL: '', RATE_LIMIT_SIGNUP_PER_MINUTE: '0' });
    t.after(() => service.child.kill('SIGKILL'));

    // Sign-ups hash a password (tens of milliseconds each), so several are in flight at the signal.
    const emails = Array.from({ length: 12 }, (_, index) => `${uniqueName(`term${index}`)}@example.com`);
    const answers = emails.map((email) =>
      postJson(`${service.url}/users/`, { email, password: 'password-1' }).then(
        (result) => result.status,
        (error: Error) => `failed: ${String((error.cause as { code?: string } | undefined)?.code ?? error.message)}`,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 60));
    const signalledAt = Date.now();
    service.child.kill('SIGTERM');

    const statuses = await Promise.all(answers);
    const code = await service.exited;
    assert.equal(code, 0, service.output());
    assert.ok(Date.now() - signalledAt < 5000, 'took too long to stop');

    // A request the server took in was finished and answered: its user exists exactly when the client got 200.
    // Requests that reached a closing server are refused (connection refused or reset before it was read, or 503).
    const db = new SqliteDatabase(file, { readonly: true });
    t.after(() => db.close());
    const stored = new Set((db.prepare('SELECT email FROM users').all() as { email: string }[]).map((row) => row.email));
    emails.forEach((email, index) => {
      assert.equal(stored.has(email), statuses[index] === 200, `${email}: stored ${stored.has(email)}, answered ${statuses[index]}`);
    });
    assert.ok(statuses.every((status) => status === 200 || status === 503 || String(status).startsWith('failed: ECONN')), statuses.join(', '));
    assert.ok(statuses.includes(200), `no request was in flight: ${statuses.join(', ')}`);
  });
});
