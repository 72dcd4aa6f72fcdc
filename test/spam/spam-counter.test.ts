import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import { buildTestApp, createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessages, storedMessages } from '../helpers/factories.js';
import { eventually, privateRedis, REDIS_URL } from '../helpers/services.js';

const key = (senderId: number) => `msg:spam-reports:uid:${senderId}`;

async function ledger(app: Awaited<ReturnType<typeof buildTestApp>>['app'], senderId: number) {
  const rows = await app.db.selectFrom('spam_reports').select('reporter_id').where('sender_id', '=', senderId).orderBy('reporter_id').execute();
  return rows.map((row) => row.reporter_id);
}

describe('spam reports count distinct reporters', () => {
  test('when a recipient reports five messages from one sender in one request, the counter rises by one and all five move to spam', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const ids = await sendMessages(app, sender.id, recipient.id, 5);

    const response = await batchUpdate(app, { message_id_list: ids, spam: 'true' });

    assert.equal(response.statusCode, 200);
    assert.equal(response.body, '{"msg":"Success"}');
    assert.deepEqual((await storedMessages(app, ids)).map((message) => message.folder), ['spam', 'spam', 'spam', 'spam', 'spam']);
    assert.equal(await redis.get(key(sender.id)), '1');
    assert.deepEqual(await ledger(app, sender.id), [recipient.id]);
  });

  test('when a recipient reports a sender in five separate requests, the counter stays at one', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const ids = await sendMessages(app, sender.id, recipient.id, 5);

    for (const id of ids) assert.equal((await batchUpdate(app, { message_id_list: [id], spam: 'true' })).statusCode, 200);

    assert.equal(await redis.get(key(sender.id)), '1');
    assert.deepEqual((await storedMessages(app, ids)).map((message) => message.folder), Array(5).fill('spam'));
  });

  test('when three recipients report one sender, the counter is three; reporting the same message again changes nothing', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipients = [await createUser(app), await createUser(app), await createUser(app)];
    const firstIds: number[] = [];
    for (const recipient of recipients) {
      const [id] = await sendMessages(app, sender.id, recipient.id, 1);
      assert.ok(id !== undefined);
      firstIds.push(id);
      await batchUpdate(app, { message_id_list: [id], spam: true });
    }
    assert.equal(await redis.get(key(sender.id)), '3');

    await batchUpdate(app, { message_id_list: firstIds, spam: 'true' });
    assert.equal(await redis.get(key(sender.id)), '3');
  });

  test('one batch reporting a sender reported before, one never reported and one reported again counts each exactly', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const [known, fresh, repeated] = [await createUser(app), await createUser(app), await createUser(app)];
    const [earlier, recipient] = [await createUser(app), await createUser(app)];
    // Counters for `known` (by someone else) and `repeated` (by this recipient) exist; `fresh` has none yet.
    await batchUpdate(app, { message_id_list: await sendMessages(app, known.id, earlier.id, 1), spam: 'true' });
    const [repeatedFirst] = await sendMessages(app, repeated.id, recipient.id, 1);
    await batchUpdate(app, { message_id_list: [repeatedFirst!], spam: 'true' });

    const ids = [
      ...(await sendMessages(app, known.id, recipient.id, 1)),
      ...(await sendMessages(app, fresh.id, recipient.id, 2)),
      ...(await sendMessages(app, repeated.id, recipient.id, 1)),
    ];
    assert.equal((await batchUpdate(app, { message_id_list: ids, spam: 'true' })).statusCode, 200);

    assert.deepEqual(
      [await redis.get(key(known.id)), await redis.get(key(fresh.id)), await redis.get(key(repeated.id))],
      ['2', '1', '1'],
    );
    assert.deepEqual(await ledger(app, fresh.id), [recipient.id]);
  });

  test('the counter is a plain integer that expires 7 days after the last change', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const ids = await sendMessages(app, sender.id, recipient.id, 1);

    await batchUpdate(app, { message_id_list: ids, spam: 'true' });

    assert.equal(await redis.type(key(sender.id)), 'string');
    assert.equal(await redis.get(key(sender.id)), '1');
    const ttl = await redis.ttl(key(sender.id));
    assert.ok(ttl > 604790 && ttl <= 604800, `ttl ${ttl}`);
  });

  test('a repeated report by an already counted recipient refreshes the expiry without changing the count; so does a new reporter', async (t) => {
    const { app, redis } = await buildTestApp(t, { SPAM_REPORT_TTL_SECONDS: '60' });
    const sender = await createUser(app);
    const first = await createUser(app);
    const second = await createUser(app);
    const [a, b] = await sendMessages(app, sender.id, first.id, 2);
    const [c] = await sendMessages(app, sender.id, second.id, 1);

    await batchUpdate(app, { message_id_list: [a], spam: 'true' });
    const afterFirst = await redis.pttl(key(sender.id));
    await sleep(300);
    await batchUpdate(app, { message_id_list: [b], spam: 'true' });
    const afterRepeat = await redis.pttl(key(sender.id));
    assert.ok(afterRepeat > afterFirst - 250, `the repeat did not refresh the expiry: ${afterFirst} → ${afterRepeat}`);
    assert.equal(await redis.get(key(sender.id)), '1');
    assert.deepEqual(await ledger(app, sender.id), [first.id]);

    // Reporting a message that is in spam already is a report too, as the original counted it.
    await sleep(300);
    await batchUpdate(app, { message_id_list: [a], spam: 'true' });
    const afterSameMessage = await redis.pttl(key(sender.id));
    assert.ok(afterSameMessage > afterRepeat - 250, `reporting again did not refresh the expiry: ${afterRepeat} → ${afterSameMessage}`);

    await sleep(300);
    await batchUpdate(app, { message_id_list: [c], spam: 'true' });
    const afterNewReporter = await redis.pttl(key(sender.id));
    assert.ok(afterNewReporter > afterSameMessage - 250, `new reporter did not refresh the expiry: ${afterSameMessage} → ${afterNewReporter}`);
    assert.equal(await redis.get(key(sender.id)), '2');
  });

  test('when the counter expires, the reports behind it expire too, and reporting again counts again', async (t) => {
    const { app, redis } = await buildTestApp(t, { SPAM_REPORT_TTL_SECONDS: '1' });
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const [first, second] = await sendMessages(app, sender.id, recipient.id, 2);

    await batchUpdate(app, { message_id_list: [first], spam: 'true' });
    assert.equal(await redis.get(key(sender.id)), '1');
    await sleep(1300);
    assert.equal(await redis.get(key(sender.id)), null);

    await batchUpdate(app, { message_id_list: [second], spam: 'true' });
    assert.equal(await redis.get(key(sender.id)), '1');
    assert.deepEqual(await ledger(app, sender.id), [recipient.id]);
  });

  test('sent and deleted messages ignore the spam flag and report nobody', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const [sent, deleted] = await sendMessages(app, sender.id, recipient.id, 2);
    assert.ok(sent !== undefined && deleted !== undefined);
    await app.db.updateTable('messages').set({ folder: 'sent' }).where('id', '=', sent).execute();
    await app.db.updateTable('messages').set({ folder: 'deleted' }).where('id', '=', deleted).execute();

    await batchUpdate(app, { message_id_list: [sent, deleted], spam: 'true' });

    assert.deepEqual((await storedMessages(app, [sent, deleted])).map((message) => message.folder), ['sent', 'deleted']);
    assert.equal(await redis.get(key(sender.id)), null);
    assert.deepEqual(await ledger(app, sender.id), []);
  });
});

describe('withdrawing a report', () => {
  test('the counter drops by one only when none of the recipient’s messages from that sender remain in spam', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const other = await createUser(app);
    const [a, b] = await sendMessages(app, sender.id, recipient.id, 2);
    const [c] = await sendMessages(app, sender.id, other.id, 1);
    await batchUpdate(app, { message_id_list: [a, b, c], spam: 'true' });
    assert.equal(await redis.get(key(sender.id)), '2');

    await batchUpdate(app, { message_id_list: [a], spam: 'false' });
    assert.equal(await redis.get(key(sender.id)), '2', 'message b is still in spam, so the report stands');

    await batchUpdate(app, { message_id_list: [b], spam: 'false' });
    assert.equal(await redis.get(key(sender.id)), '1');
    assert.deepEqual(await ledger(app, sender.id), [other.id]);
    assert.deepEqual((await storedMessages(app, [a, b, c].map(Number))).map((message) => message.folder), ['inbox', 'inbox', 'spam']);
  });

  test('when the last reporter withdraws, the counter key is removed', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const ids = await sendMessages(app, sender.id, recipient.id, 3);
    await batchUpdate(app, { message_id_list: ids, spam: 'true' });

    await batchUpdate(app, { message_id_list: ids, spam: false });

    assert.equal(await redis.get(key(sender.id)), null);
    assert.deepEqual(await ledger(app, sender.id), []);
  });

  test('spam: false on messages that were never reported changes no counter', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const reporter = await createUser(app);
    const bystander = await createUser(app);
    const [reported] = await sendMessages(app, sender.id, reporter.id, 1);
    const innocent = await sendMessages(app, sender.id, bystander.id, 2);
    await batchUpdate(app, { message_id_list: [reported], spam: 'true' });
    const ttlBefore = await redis.pttl(key(sender.id));

    await batchUpdate(app, { message_id_list: innocent, spam: 'false' });

    assert.equal(await redis.get(key(sender.id)), '1');
    assert.ok((await redis.pttl(key(sender.id))) <= ttlBefore);
    assert.deepEqual(await ledger(app, sender.id), [reporter.id]);
  });

  test('reporting again after a withdrawal counts again', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const ids = await sendMessages(app, sender.id, recipient.id, 1);

    await batchUpdate(app, { message_id_list: ids, spam: 'true' });
    await batchUpdate(app, { message_id_list: ids, spam: 'false' });
    assert.equal(await redis.get(key(sender.id)), null);
    await batchUpdate(app, { message_id_list: ids, spam: 'true' });

    assert.equal(await redis.get(key(sender.id)), '1');
  });

  test('moving a reported message to trash keeps the report until a spam: false request finds none left in spam', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const [a, b] = await sendMessages(app, sender.id, recipient.id, 2);
    await batchUpdate(app, { message_id_list: [a], spam: 'true' });

    await batchUpdate(app, { message_id_list: [a], trash: 'true' });
    assert.equal(await redis.get(key(sender.id)), '1');

    await batchUpdate(app, { message_id_list: [b], spam: 'false' });
    assert.equal(await redis.get(key(sender.id)), null);
  });
});

describe('counters under concurrency', () => {
  test('20 parallel requests by one recipient on 20 messages from one sender count once', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipient = await createUser(app);
    const ids = await sendMessages(app, sender.id, recipient.id, 20);

    const responses = await Promise.all(ids.map((id) => batchUpdate(app, { message_id_list: [id], spam: 'true' })));

    assert.deepEqual(responses.map((response) => response.statusCode), Array(20).fill(200));
    assert.equal(await redis.get(key(sender.id)), '1');
    assert.deepEqual((await storedMessages(app, ids)).map((message) => message.folder), Array(20).fill('spam'));
  });

  test('20 recipients reporting one sender in parallel count twenty', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipients = await Promise.all(Array.from({ length: 20 }, () => createUser(app)));
    const ids = (await Promise.all(recipients.map((recipient) => sendMessages(app, sender.id, recipient.id, 2)))).flat();

    const responses = await Promise.all(
      recipients.map((_, index) => batchUpdate(app, { message_id_list: ids.slice(index * 2, index * 2 + 2), spam: 'true' })),
    );

    assert.ok(responses.every((response) => response.statusCode === 200));
    assert.equal(await redis.get(key(sender.id)), '20');
    assert.equal((await ledger(app, sender.id)).length, 20);
  });

  test('interleaved reports and withdrawals in parallel end in the exact count', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipients = await Promise.all(Array.from({ length: 12 }, () => createUser(app)));
    const idsByRecipient = await Promise.all(recipients.map((recipient) => sendMessages(app, sender.id, recipient.id, 2)));
    // Everyone reports first; then, in parallel, the even ones withdraw both messages and the odd ones report again.
    await Promise.all(idsByRecipient.map((ids) => batchUpdate(app, { message_id_list: ids, spam: 'true' })));
    assert.equal(await redis.get(key(sender.id)), '12');

    await Promise.all(
      idsByRecipient.flatMap((ids, index) =>
        index % 2 === 0
          ? ids.map((id) => batchUpdate(app, { message_id_list: [id], spam: 'false' }))
          : ids.map((id) => batchUpdate(app, { message_id_list: [id], spam: 'true' })),
      ),
    );

    assert.equal(await redis.get(key(sender.id)), '6');
    const stillReporting = recipients.filter((_, index) => index % 2 === 1).map((recipient) => recipient.id);
    assert.deepEqual(await ledger(app, sender.id), stillReporting.sort((a, b) => a - b));
  });

  test('a batch carrying many senders and recipients updates every counter in one go', async (t) => {
    const { app, redis } = await buildTestApp(t);
    const senders = [await createUser(app), await createUser(app)];
    const recipients = [await createUser(app), await createUser(app)];
    const ids: number[] = [];
    for (const sender of senders) for (const recipient of recipients) ids.push(...(await sendMessages(app, sender.id, recipient.id, 2)));

    await batchUpdate(app, { message_id_list: ids.slice(0, 8), spam: 'true' });

    for (const sender of senders) assert.equal(await redis.get(key(sender.id)), '2');
  });
});

/**
 * Redis MONITOR on a plain socket: each command any client sends, as a line of text, until the test
 * ends. (ioredis's monitor() failed with "Command queue state error" when another client's command
 * arrived as it started, and the test's process then never ended.)
 */
async function monitorRedis(t: TestContext, onLine: (line: string) => void): Promise<void> {
  const url = new URL(REDIS_URL);
  const socket = connect(Number(url.port || 6379), url.hostname);
  t.after(() => socket.destroy());
  const login = url.password ? [`AUTH ${decodeURIComponent(url.username || 'default')} ${decodeURIComponent(url.password)}`] : [];
  let answersDue = login.length + 1;
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (answersDue > 0) {
          answersDue -= 1;
          if (line !== '+OK') reject(new Error(`MONITOR: ${line}`));
          else if (answersDue === 0) resolve();
        } else onLine(line);
      }
    });
    socket.write([...login, 'MONITOR'].map((command) => `${command}\r\n`).join(''));
  });
}

describe('publishing counters', () => {
  // The requests' commits land together only where SQLite's group commit makes them (PostgreSQL commits each apart).
  const sqliteOnly = process.env.TEST_DIALECT === 'postgres' ? 'publishes share a round trip when their commits do: SQLite' : false;

  test('counters published in the same moment go to Redis in one script call, and each answer comes after its counter is there', { skip: sqliteOnly }, async (t) => {
    const { app, redis, prefix } = await buildTestApp(t);
    const sender = await createUser(app);
    const recipients = await Promise.all(Array.from({ length: 10 }, () => createUser(app)));
    const ids = (await Promise.all(recipients.map((recipient) => sendMessages(app, sender.id, recipient.id, 1)))).flat();

    const scriptCalls: string[] = [];
    await monitorRedis(t, (line) => {
      // MONITOR sees every client of this Redis (the other pass's tests too): only this app's key counts.
      if (/^\+[\d.]+ \[[^\]]*\] "eval(sha)?" /i.test(line) && line.includes(`"${prefix}${key(sender.id)}"`)) scriptCalls.push(line);
    });

    const counts = await Promise.all(
      ids.map(async (id) => {
        const response = await batchUpdate(app, { message_id_list: [id], spam: 'true' });
        assert.equal(response.statusCode, 200);
        return Number(await redis.get(key(sender.id)));
      }),
    );

    assert.equal(await redis.get(key(sender.id)), '10');
    // Every answer found its own report counted already (the count it read includes itself and maybe others).
    assert.ok(counts.every((count) => count >= 1 && count <= 10), String(counts));
    await sleep(200);
    assert.ok(scriptCalls.length >= 1 && scriptCalls.length < ids.length, `${scriptCalls.length} script calls for ${ids.length} requests`);
  });

  /** An app on a redis-server of the test's own (which it can hang), a sender, and one message to it from each of `recipients` recipients. */
  async function appOnOwnRedis(t: TestContext, timeoutMs: number, recipients: number) {
    const server = await privateRedis();
    t.after(() => server.stop());
    const storage = await createTestStorage(t, { REDIS_URL: server.url, REDIS_TIMEOUT_MS: String(timeoutMs) });
    const inspect = new Redis(server.url, { keyPrefix: storage.prefix, commandTimeout: 10_000 });
    inspect.on('error', () => {});
    t.after(() => inspect.disconnect());
    const app = await startTestApp(t, storage);
    const sender = await createUser(app);
    const ids: number[] = [];
    for (let index = 0; index < recipients; index += 1) ids.push(...(await sendMessages(app, sender.id, (await createUser(app)).id, 1)));
    return { server, inspect, app, sender, ids };
  }

  const scriptCalls = async (redis: Redis) => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);

  test('while a call is on its way to Redis, the counters of the requests after it wait, and go together in the next call', async (t) => {
    const { server, inspect, app, sender, ids } = await appOnOwnRedis(t, 10_000, 5);
    // The script is loaded by a first report, so each call below is one EVALSHA.
    assert.equal((await batchUpdate(app, { message_id_list: [ids[0]!], spam: 'true' })).statusCode, 200);
    await inspect.config('RESETSTAT');

    server.pause();
    t.after(() => server.resume());
    const first = batchUpdate(app, { message_id_list: [ids[1]!], spam: 'true' });
    await sleep(50);
    const later = [];
    for (const id of ids.slice(2)) {
      later.push(batchUpdate(app, { message_id_list: [id], spam: 'true' }));
      await sleep(30);
    }
    server.resume();

    for (const response of await Promise.all([first, ...later])) assert.equal(response.statusCode, 200);
    assert.equal(await inspect.get(key(sender.id)), '5');
    // The first request's call, then one for the three that came while it hung (one each before).
    assert.equal(await scriptCalls(inspect), 2);
  });

  test('when the call before fails, the requests behind it answer at once, and the reconciliation writes their counters', async (t) => {
    const { server, inspect, app, sender, ids } = await appOnOwnRedis(t, 1000, 2);
    server.pause();
    t.after(() => server.resume());
    const first = batchUpdate(app, { message_id_list: [ids[0]!], spam: 'true' });
    await sleep(50);
    const started = Date.now();
    const second = await batchUpdate(app, { message_id_list: [ids[1]!], spam: 'true' });
    const took = Date.now() - started;
    assert.equal((await first).statusCode, 200);
    assert.equal(second.statusCode, 200);
    // It waited for the first call's timeout (about 950 ms), not for a second call's of its own as well.
    assert.ok(took < 1700, `the second report took ${took} ms`);
    server.resume();
    await eventually(async () => (await inspect.get(key(sender.id))) === '2', 15_000, 'counter reconciled after the hang');
  });
});
