/**
 * Two app instances on one PostgreSQL schema and one Redis prefix, as two processes behind a load
 * balancer would be: every race a single SQLite process hid must still come out exact.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { createUser, sendMessages, storedMessages } from '../helpers/factories.js';
import { redisWithPrefix, testDatabaseUrl } from '../helpers/services.js';

const onPostgres = testDatabaseUrl() !== undefined;
const key = (senderId: number) => `msg:spam-reports:uid:${senderId}`;

async function twoInstances(t: TestContext) {
  const storage = await createTestStorage(t);
  // Both start at once: migrations must be safe to run concurrently.
  const instances = await Promise.all([startTestApp(t, storage), startTestApp(t, storage)]);
  const redis = redisWithPrefix(storage.prefix);
  t.after(() => redis.disconnect());
  return { instances, redis };
}

function report(app: FastifyInstance, ids: number[], spam: string) {
  return app.inject({ method: 'PUT', url: '/msg/list/', payload: { message_id_list: ids, spam } });
}

describe('two instances on one PostgreSQL and one Redis', { skip: onPostgres ? false : 'runs on PostgreSQL (TEST_DIALECT=postgres)' }, () => {
  test('40 recipients reporting one sender through alternating instances in parallel count exactly 40', async (t) => {
    const { instances, redis } = await twoInstances(t);
    const [first, second] = instances as [FastifyInstance, FastifyInstance];
    const sender = await createUser(first);
    const recipients = await Promise.all(Array.from({ length: 40 }, (_, index) => createUser(index % 2 ? first : second)));
    const ids = await Promise.all(recipients.map((recipient, index) => sendMessages(index % 2 ? second : first, sender.id, recipient.id, 2)));

    const responses = await Promise.all(ids.map((pair, index) => report(index % 2 ? first : second, pair, 'true')));

    assert.ok(responses.every((response) => response.statusCode === 200));
    assert.equal(await redis.get(key(sender.id)), '40');
    const ledger = await first.db.selectFrom('spam_reports').select('reporter_id').where('sender_id', '=', sender.id).execute();
    assert.equal(ledger.length, 40);
  });

  test("one recipient's 40 parallel reports split across both instances count exactly 1", async (t) => {
    const { instances, redis } = await twoInstances(t);
    const [first, second] = instances as [FastifyInstance, FastifyInstance];
    const sender = await createUser(first);
    const recipient = await createUser(second);
    const ids = await sendMessages(first, sender.id, recipient.id, 40);

    const responses = await Promise.all(ids.map((id, index) => report(index % 2 ? first : second, [id], 'true')));

    assert.ok(responses.every((response) => response.statusCode === 200));
    assert.equal(await redis.get(key(sender.id)), '1');
    assert.ok((await storedMessages(first, ids)).every((message) => message.folder === 'spam'));
  });

  test('reports and withdrawals racing across instances end in the ledger’s exact count', async (t) => {
    const { instances, redis } = await twoInstances(t);
    const [first, second] = instances as [FastifyInstance, FastifyInstance];
    const sender = await createUser(first);
    const recipients = await Promise.all(Array.from({ length: 10 }, () => createUser(first)));
    const ids = await Promise.all(recipients.map((recipient) => sendMessages(second, sender.id, recipient.id, 2)));
    await Promise.all(ids.map((pair) => report(first, pair, 'true')));

    // Even recipients withdraw message by message through alternating instances; odd ones report again.
    await Promise.all(
      ids.flatMap((pair, index) =>
        pair.map((id, position) => report(position % 2 ? first : second, [id], index % 2 === 0 ? 'false' : 'true')),
      ),
    );

    assert.equal(await redis.get(key(sender.id)), '5');
  });

  test('20 parallel sign-ups of one email across both instances: one 200, the rest 400', async (t) => {
    const { instances } = await twoInstances(t);
    const email = `race-${Date.now()}@example.com`;

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        instances[index % 2]!.inject({ method: 'POST', url: '/users/', payload: { email, password: 'secret-password' } }),
      ),
    );

    const statuses = responses.map((response) => response.statusCode).sort();
    assert.deepEqual(statuses, [200, ...Array(19).fill(400)]);
    for (const response of responses.filter((candidate) => candidate.statusCode === 400)) {
      assert.equal(response.body, '{"detail":"Email already registered"}');
    }
  });

  test('concurrent batch updates of the same messages through both instances each apply whole', async (t) => {
    const { instances } = await twoInstances(t);
    const [first, second] = instances as [FastifyInstance, FastifyInstance];
    const sender = await createUser(first);
    const recipient = await createUser(first);
    const ids = await sendMessages(first, sender.id, recipient.id, 10);

    // One request trashes and marks read; the other restores and marks unread. Either order is fine,
    // but every message must end in the same state: no mix of the two.
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        (index % 2 ? first : second).inject({
          method: 'PUT',
          url: '/msg/list/',
          payload: index % 2 ? { message_id_list: ids, trash: 'true', read: 'true' } : { message_id_list: ids, trash: 'false', read: 'false' },
        }),
      ),
    );

    const states = new Set((await storedMessages(first, ids)).map((message) => `${message.folder}/${message.unread}`));
    assert.equal(states.size, 1, `mixed states: ${[...states].join(', ')}`);
    assert.ok(states.has('trash/N') || states.has('inbox/Y'));
  });
});
