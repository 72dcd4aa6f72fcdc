import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { buildTestApp, createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessage, sendMessages, storedMessages } from '../helpers/factories.js';
import { deleteKeysWithPrefix, eventually, privateRedis, tempDatabaseUrl } from '../helpers/services.js';

const run = promisify(execFile);
const key = (senderId: number) => `msg:spam-reports:uid:${senderId}`;

describe('rebuilding counters from the ledger', () => {
  test('after the counter keys are lost, `npm run spam:rebuild` restores every value and remaining expiry, and drops counters the ledger does not know', async (t) => {
    const databaseUrl = tempDatabaseUrl(t);
    const { app, redis, prefix } = await buildTestApp(t, { DATABASE_URL: databaseUrl });
    const [spammer, other] = [await createUser(app), await createUser(app)];
    const recipients = [await createUser(app), await createUser(app), await createUser(app)];
    for (const recipient of recipients) {
      await batchUpdate(app, { message_id_list: await sendMessages(app, spammer.id, recipient.id, 2), spam: 'true' });
    }
    const [recipient] = recipients;
    assert.ok(recipient);
    await batchUpdate(app, { message_id_list: await sendMessages(app, other.id, recipient.id, 1), spam: 'true' });
    const before = { spammer: await redis.get(key(spammer.id)), other: await redis.get(key(other.id)), ttl: await redis.pttl(key(spammer.id)) };
    assert.deepEqual([before.spammer, before.other], ['3', '1']);

    await deleteKeysWithPrefix(prefix);
    await redis.set(key(424242), '17'); // a counter nobody in the ledger stands behind
    assert.equal(await redis.get(key(spammer.id)), null);

    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/rebuild-spam-counters.ts'], {
      env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'silent' },
    });

    assert.match(stdout, /2 sender\(s\) currently reported/);
    assert.equal(await redis.get(key(spammer.id)), '3');
    assert.equal(await redis.get(key(other.id)), '1');
    assert.equal(await redis.get(key(424242)), null);
    const ttl = await redis.pttl(key(spammer.id));
    assert.ok(ttl <= before.ttl && ttl > before.ttl - 30_000, `expiry not restored: ${before.ttl} → ${ttl}`);
  });

  test('without Redis the counts live in the ledger alone, behave the same, and survive a restart', async (t) => {
    const storage = await createTestStorage(t, { DATABASE_URL: tempDatabaseUrl(t), REDIS_URL: '' });
    const app = await startTestApp(t, storage);
    assert.equal(app.spamReports.usesRedis, false);
    const sender = await createUser(app);
    const [first, second] = [await createUser(app), await createUser(app)];
    const firstIds = await sendMessages(app, sender.id, first.id, 5);
    await batchUpdate(app, { message_id_list: firstIds, spam: 'true' });
    await batchUpdate(app, { message_id_list: await sendMessages(app, sender.id, second.id, 1), spam: 'true' });
    assert.equal(await app.spamReports.reportedBy(sender.id), 2);
    await batchUpdate(app, { message_id_list: firstIds, spam: 'false' });
    assert.equal(await app.spamReports.reportedBy(sender.id), 1);
    await app.close();

    const restarted = await startTestApp(t, storage);
    assert.equal(await restarted.spamReports.reportedBy(sender.id), 1);
  });
});

describe('when Redis is unreachable', () => {
  test('every request still succeeds, and the counters catch up with the ledger as soon as Redis is back', async (t) => {
    const server = await privateRedis();
    t.after(() => server.stop());
    const { app, prefix } = await buildTestApp(t, { REDIS_URL: server.url, REDIS_TIMEOUT_MS: '500' });
    const inspect = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100, lazyConnect: false });
    inspect.on('error', () => {});
    t.after(() => inspect.disconnect());

    const sender = await createUser(app);
    const [first, second] = [await createUser(app), await createUser(app)];
    const firstIds = await sendMessages(app, sender.id, first.id, 2);
    await batchUpdate(app, { message_id_list: firstIds, spam: 'true' });
    assert.equal(await inspect.get(prefix + key(sender.id)), '1');

    await server.stop();

    const sent = await sendMessage(app, sender.id, second.id);
    const list = await app.inject({ method: 'GET', url: '/msg/list/' });
    assert.equal(list.statusCode, 200);
    const read = await batchUpdate(app, { message_id_list: [sent.id], read: 'true' });
    assert.equal(read.statusCode, 200);
    const report = await batchUpdate(app, { message_id_list: [sent.id], spam: 'true' });
    assert.equal(report.statusCode, 200);
    assert.equal(report.body, '{"msg":"Success"}');
    const withdraw = await batchUpdate(app, { message_id_list: firstIds, spam: 'false' });
    assert.equal(withdraw.statusCode, 200);
    assert.deepEqual((await storedMessages(app, [...firstIds, sent.id])).map((message) => [message.folder, message.unread]), [
      ['inbox', 'Y'],
      ['inbox', 'Y'],
      ['spam', 'N'],
    ]);

    // Back, and empty (no persistence): the service reconciles from the ledger on reconnect, with no manual step.
    await server.start();
    await eventually(async () => (await inspect.get(prefix + key(sender.id)).catch(() => null)) === '1', 15_000, 'counter reconciled');
    const ledger = await app.db.selectFrom('spam_reports').select('reporter_id').where('sender_id', '=', sender.id).execute();
    assert.deepEqual(ledger.map((row) => row.reporter_id), [second.id]);
  });
});
