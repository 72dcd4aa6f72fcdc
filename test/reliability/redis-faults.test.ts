/**
 * Redis faults on a redis-server of the test's own: flushed, hung. (Stopped and restarted is in
 * test/spam/rebuild-and-outage.test.ts.) Counters always come back to the ledger's numbers without
 * a manual step, and no request hangs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessages } from '../helpers/factories.js';
import { eventually, privateRedis } from '../helpers/services.js';

const key = (senderId: number) => `msg:spam-reports:uid:${senderId}`;

describe('Redis faults', () => {
  test('after Redis is flushed, a restarted instance rebuilds every counter by itself', async (t) => {
    const server = await privateRedis();
    t.after(() => server.stop());
    const dir = mkdtempSync(join(tmpdir(), 'inbox-flush-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const storage = await createTestStorage(t, { REDIS_URL: server.url, DATABASE_URL: `sqlite:${join(dir, 'inbox.db')}` });
    const inspect = new Redis(server.url, { keyPrefix: storage.prefix });
    t.after(() => inspect.disconnect());

    const app = await startTestApp(t, storage);
    const sender = await createUser(app);
    for (const recipient of [await createUser(app), await createUser(app)]) {
      await batchUpdate(app, { message_id_list: await sendMessages(app, sender.id, recipient.id, 2), spam: 'true' });
    }
    const ttlBefore = await inspect.pttl(key(sender.id));
    assert.equal(await inspect.get(key(sender.id)), '2');

    await inspect.flushall();
    await app.close();
    const restarted = await startTestApp(t, storage);

    await eventually(async () => (await inspect.get(key(sender.id))) === '2', 10_000, 'counter rebuilt at start');
    const ttlAfter = await inspect.pttl(key(sender.id));
    assert.ok(ttlAfter <= ttlBefore && ttlAfter > ttlBefore - 30_000, `expiry not restored: ${ttlBefore} → ${ttlAfter}`);
    assert.equal(await restarted.spamReports.reportedBy(sender.id), 2);
  });

  test('while Redis hangs, a spam report answers within the configured timeout, and the counter catches up once Redis answers again', async (t) => {
    const server = await privateRedis();
    t.after(() => server.stop());
    const storage = await createTestStorage(t, { REDIS_URL: server.url, REDIS_TIMEOUT_MS: '300' });
    const inspect = new Redis(server.url, { keyPrefix: storage.prefix, commandTimeout: 5000 });
    inspect.on('error', () => {});
    t.after(() => inspect.disconnect());
    const app = await startTestApp(t, storage);
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const ids = await sendMessages(app, sender.id, recipient.id, 3);

    server.pause();
    t.after(() => server.resume());
    const started = Date.now();
    const response = await batchUpdate(app, { message_id_list: ids, spam: 'true' });
    const took = Date.now() - started;
    const list = await app.inject({ method: 'GET', url: '/msg/list/' });
    server.resume();

    assert.equal(response.statusCode, 200);
    assert.equal(response.body, '{"msg":"Success"}');
    assert.ok(took < 2000, `the report took ${took} ms while Redis hung`);
    assert.equal(list.statusCode, 200);
    await eventually(async () => (await inspect.get(key(sender.id))) === '1', 15_000, 'counter reconciled after the hang');
  });
});
