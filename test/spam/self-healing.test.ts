/**
 * The spam counters heal from every fault: the moderation view answers from the ledger whatever
 * Redis does; a Redis ahead of the database (a restore) or one that mirrored another database is
 * brought back to the ledger's truth by the service itself.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildTestApp, createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessages } from '../helpers/factories.js';
import { eventually, privateRedis, redisWithPrefix, SQLITE_PASS_ONLY } from '../helpers/services.js';

const key = (senderId: number) => `msg:spam-reports:uid:${senderId}`;
const versionKey = (senderId: number) => `msg:spam-reports-version:uid:${senderId}`;

async function generationOf(app: FastifyInstance): Promise<string> {
  const row = await app.db.selectFrom('settings').select('value').where('name', '=', 'database_generation').executeTakeFirstOrThrow();
  return row.value;
}

async function reportedBy(app: FastifyInstance, senderId: number): Promise<{ status: number; count: number | undefined; ms: number }> {
  const started = Date.now();
  const response = await app.inject({ method: 'GET', url: `/users/${senderId}/spam-reports` });
  const count = response.statusCode === 200 ? response.json<{ reported_by: number }>().reported_by : undefined;
  return { status: response.statusCode, count, ms: Date.now() - started };
}

/** A sender reported by `count` distinct recipients. */
async function reportedSender(app: FastifyInstance, count: number): Promise<number> {
  const sender = await createUser(app);
  for (let index = 0; index < count; index += 1) {
    const recipient = await createUser(app);
    await batchUpdate(app, { message_id_list: await sendMessages(app, sender.id, recipient.id, 1), spam: 'true' });
  }
  return sender.id;
}

describe('the moderation view answers from the ledger', () => {
  test('while Redis holds garbage, stalls, or is down, GET /users/{id}/spam-reports answers the true count at once', async (t) => {
    const server = await privateRedis();
    t.after(() => server.stop());
    const storage = await createTestStorage(t, { REDIS_URL: server.url, REDIS_TIMEOUT_MS: '300' });
    const app = await startTestApp(t, storage);
    const inspect = new Redis(server.url, { keyPrefix: storage.prefix, maxRetriesPerRequest: 1 });
    inspect.on('error', () => {});
    t.after(() => inspect.disconnect());
    const sender = await reportedSender(app, 2);
    assert.equal(await inspect.get(key(sender)), '2');

    await inspect.set(key(sender), 'garbage');
    await inspect.del(versionKey(sender));
    await inspect.hset(versionKey(sender), 'not', 'a string');
    assert.deepEqual((await reportedBy(app, sender)).count, 2);
    // The next report repairs the garbage, whatever its type.
    const third = await createUser(app);
    await batchUpdate(app, { message_id_list: await sendMessages(app, sender, third.id, 1), spam: 'true' });
    assert.equal(await inspect.get(key(sender)), '3');

    server.pause();
    const stalled = await reportedBy(app, sender);
    server.resume();
    assert.equal(stalled.status, 200);
    assert.equal(stalled.count, 3);
    assert.ok(stalled.ms < 1000, `answered in ${stalled.ms} ms while Redis stalled`);

    await server.stop();
    const down = await reportedBy(app, sender);
    assert.equal(down.status, 200);
    assert.equal(down.count, 3);
    const top = await app.inject({ method: 'GET', url: '/spam/senders' });
    assert.equal(top.statusCode, 200);
    assert.deepEqual(top.json(), [{ user_id: sender, reported_by: 3 }]);
  });
});

describe('Redis ahead of the database', () => {
  test('a counter write Redis refuses as older is checked against the ledger; where Redis is ahead, the ledger wins', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await reportedSender(app, 1);
    // As after a restore: Redis holds a newer version of this database's counter than the ledger ever reached.
    await redis.set(versionKey(sender), `${await generationOf(app)}:99`);
    await redis.set(key(sender), '7');

    const second = await createUser(app);
    await batchUpdate(app, { message_id_list: await sendMessages(app, sender, second.id, 1), spam: 'true' });

    // Refused writes are settled together a moment later.
    await eventually(async () => (await redis.get(key(sender))) === '2', 5_000, 'the ledger winning over Redis');
    assert.match((await redis.get(versionKey(sender))) ?? '', /:2$/);
    // And from then on, writes apply in order again.
    const third = await createUser(app);
    await batchUpdate(app, { message_id_list: await sendMessages(app, sender, third.id, 1), spam: 'true' });
    assert.equal(await redis.get(key(sender)), '3');
  });

  test('a service started on a database restored from a backup brings Redis back to the restored ledger', { skip: SQLITE_PASS_ONLY }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'inbox-restore-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'inbox.db');
    const storage = await createTestStorage(t, { DATABASE_URL: `sqlite:${file}` });
    const redis = redisWithPrefix(storage.prefix);
    t.after(() => redis.disconnect());

    const before = await startTestApp(t, storage);
    const sender = await reportedSender(before, 1);
    const recipients = [await createUser(before), await createUser(before)];
    await before.close();
    copyFileSync(file, join(dir, 'backup.db'));

    const after = await startTestApp(t, storage);
    for (const recipient of recipients) {
      await batchUpdate(after, { message_id_list: await sendMessages(after, sender, recipient.id, 1), spam: 'true' });
    }
    assert.equal(await redis.get(key(sender)), '3');
    await after.close();

    // Restore the backup: the ledger is back at one reporter, Redis still says three.
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    copyFileSync(join(dir, 'backup.db'), file);
    const restored = await startTestApp(t, storage);
    await eventually(async () => (await redis.get(key(sender))) === '1', 10_000, 'the counter back at the restored ledger');
    assert.equal((await reportedBy(restored, sender)).count, 1);
  });
});

describe('a Redis that mirrored another database', () => {
  test('a service started on a new database against an old Redis rebuilds it whole: foreign counters go, its own are exact', async (t) => {
    const old = await createTestStorage(t);
    const oldApp = await startTestApp(t, old);
    const oldSenders = [await reportedSender(oldApp, 2), await reportedSender(oldApp, 1), await reportedSender(oldApp, 3)];
    await oldApp.close();
    const redis = redisWithPrefix(old.prefix);
    t.after(() => redis.disconnect());
    assert.deepEqual(await Promise.all(oldSenders.map((sender) => redis.get(key(sender)))), ['2', '1', '3']);

    // A new, empty database against the same Redis keys; its first reported sender gets id 1 again.
    const fresh = await createTestStorage(t, { REDIS_KEY_PREFIX: old.prefix });
    const freshApp = await startTestApp(t, fresh);
    const sender = await reportedSender(freshApp, 1);
    assert.equal(sender, oldSenders[0]);

    assert.equal(await redis.get(key(sender)), '1');
    for (const stale of oldSenders.slice(1)) assert.equal(await redis.get(key(stale)), null, `stale counter of ${stale} kept`);
    assert.equal(await redis.get('msg:spam-reports-generation'), await generationOf(freshApp));
  });
});
