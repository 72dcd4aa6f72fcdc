/**
 * The moderation views read the spam counters: GET /users/{id}/spam-reports is the sender's Redis
 * counter, GET /spam/senders ranks senders from the ledger. After a scripted set of reports and
 * withdrawals both match the counters exactly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, sendMessages } from '../helpers/factories.js';

const counter = async (redis: Redis, userId: number) => Number((await redis.get(`msg:spam-reports:uid:${userId}`)) ?? 0);

/** Users straight into the database: these tests never log in, so they skip the argon2 sign-up. */
async function insertUsers(app: FastifyInstance, count: number): Promise<number[]> {
  const rows = Array.from({ length: count }, (_, index) => {
    const email = `user${index}-${Date.now()}@example.com`;
    return { email, email_key: email, hashed_password: 'unused' };
  });
  const inserted = await app.db.insertInto('users').values(rows).returning('id').execute();
  return inserted.map((row) => row.id).sort((a, b) => a - b);
}

async function reportedBy(app: FastifyInstance, userId: number): Promise<number> {
  const response = await app.inject({ method: 'GET', url: `/users/${userId}/spam-reports` });
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json<{ user_id: number; reported_by: number }>();
  assert.deepEqual(Object.keys(body), ['user_id', 'reported_by']);
  assert.equal(body.user_id, userId);
  return body.reported_by;
}

async function topSenders(app: FastifyInstance, query = ''): Promise<{ user_id: number; reported_by: number }[]> {
  const response = await app.inject({ method: 'GET', url: `/spam/senders${query}` });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

test('after a scripted set of reports and withdrawals, both views match the Redis counters', async (t) => {
  const { app, redis } = await buildTestApp(t);
  const [spammer, pest, quiet, r1, r2, r3, r4] = (await insertUsers(app, 7)) as [number, number, number, number, number, number, number];
  const mail = new Map<string, number[]>();
  for (const [from, to] of [
    [spammer, r1],
    [spammer, r2],
    [spammer, r3],
    [spammer, r4],
    [pest, r1],
    [pest, r2],
    [quiet, r1],
  ] as const) {
    mail.set(`${from}->${to}`, await sendMessages(app, from, to, 3));
  }
  const of = (from: number, to: number) => mail.get(`${from}->${to}`) ?? [];
  const report = async (ids: number[], spam: string) => {
    const response = await batchUpdate(app, { message_id_list: ids, spam });
    assert.equal(response.statusCode, 200, response.body);
  };

  assert.deepEqual(await topSenders(app), []);
  await report(of(spammer, r1), 'true'); // three messages, one reporter
  await report(of(spammer, r2).slice(0, 1), 'true');
  await report(of(spammer, r3).slice(0, 2), 'true');
  await report(of(spammer, r4), 'true');
  await report(of(pest, r1).slice(0, 1), 'true');
  await report(of(pest, r2).slice(0, 1), 'true');
  await report(of(spammer, r1).slice(0, 1), 'true'); // again: no change
  await report(of(quiet, r1), 'false'); // never reported: no counter
  await report(of(spammer, r3).slice(0, 1), 'false'); // one of r3's two reports stays: still counted
  await report(of(spammer, r4), 'false'); // r4 withdraws
  await report(of(pest, r2), 'false'); // r2 withdraws from pest
  await report(of(pest, r2).slice(1, 2), 'true'); // and reports again

  const expected = { [spammer]: 3, [pest]: 2, [quiet]: 0, [r1]: 0 };
  for (const [userId, reporters] of Object.entries(expected).map(([id, value]) => [Number(id), value] as const)) {
    assert.equal(await counter(redis, userId), reporters, `counter of ${userId}`);
    assert.equal(await reportedBy(app, userId), reporters, `view of ${userId}`);
  }
  assert.deepEqual(await topSenders(app), [
    { user_id: spammer, reported_by: 3 },
    { user_id: pest, reported_by: 2 },
  ]);
  assert.deepEqual(await topSenders(app, '?limit=1'), [{ user_id: spammer, reported_by: 3 }]);

  // Every remaining report withdrawn: the counters are gone and the ranking is empty.
  await report([...of(spammer, r1), ...of(spammer, r2), ...of(spammer, r3)], 'false');
  await report([...of(pest, r1), ...of(pest, r2)], 'false');
  assert.equal(await redis.get(`msg:spam-reports:uid:${spammer}`), null);
  assert.equal(await reportedBy(app, spammer), 0);
  assert.equal(await reportedBy(app, pest), 0);
  assert.deepEqual(await topSenders(app), []);
});

test('the ranking is highest first, ties by user id, and limit defaults to 20', async (t) => {
  const { app } = await buildTestApp(t);
  const users = await insertUsers(app, 25);
  const recipients = users.slice(0, 3);
  const senders = users.slice(3);
  // Sender i is reported by (i mod 3) + 1 recipients: one message each, in one batch per recipient.
  for (const [index, recipient] of recipients.entries()) {
    const ids = [];
    for (const [senderIndex, sender] of senders.entries()) {
      if (senderIndex % 3 >= index) ids.push(...(await sendMessages(app, sender, recipient, 1)));
    }
    for (let start = 0; start < ids.length; start += 10) {
      const response = await batchUpdate(app, { message_id_list: ids.slice(start, start + 10), spam: true });
      assert.equal(response.statusCode, 200, response.body);
    }
  }
  const expected = senders
    .map((sender, index) => ({ user_id: sender, reported_by: (index % 3) + 1 }))
    .sort((a, b) => b.reported_by - a.reported_by || a.user_id - b.user_id);
  assert.deepEqual(await topSenders(app), expected.slice(0, 20));
  assert.deepEqual(await topSenders(app, '?limit=100'), expected);
  assert.deepEqual(await topSenders(app, '?limit=5'), expected.slice(0, 5));
});

test('unknown user: 404 {"detail":"User not found"}; bad ids and limits: 422 in FastAPI shape', async (t) => {
  const { app } = await buildTestApp(t);
  const missing = await app.inject({ method: 'GET', url: '/users/424242/spam-reports' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.body, '{"detail":"User not found"}');
  for (const [url, body] of [
    ['/users/x/spam-reports', '{"detail":[{"loc":["path","user_id"],"msg":"value is not a valid integer","type":"type_error.integer"}]}'],
    ['/spam/senders?limit=0', '{"detail":[{"loc":["query","limit"],"msg":"ensure this value is greater than or equal to 1","type":"value_error.number.not_ge","ctx":{"limit_value":1}}]}'],
    ['/spam/senders?limit=101', '{"detail":[{"loc":["query","limit"],"msg":"ensure this value is less than or equal to 100","type":"value_error.number.not_le","ctx":{"limit_value":100}}]}'],
    ['/spam/senders?limit=many', '{"detail":[{"loc":["query","limit"],"msg":"value is not a valid integer","type":"type_error.integer"}]}'],
  ] as const) {
    const response = await app.inject({ method: 'GET', url });
    assert.equal(response.statusCode, 422, url);
    assert.equal(response.body, body);
  }
});
