/**
 * Push across instances: a change made through instance A reaches a stream opened on instance B within
 * a second, by PostgreSQL NOTIFY/LISTEN (two apps on the suite's PostgreSQL schema; two server processes
 * on a PostgreSQL cluster of the test's own) or by Redis pub/sub (two apps on one SQLite file and one
 * Redis prefix). When the listening connection is cut, the streams still get later changes, and the
 * change made while it was down (resync). Connections are only cut on servers of the test's own: the
 * service names neither its LISTEN connection (no application_name) nor its Redis subscriber (no client
 * name), so on the shared servers it could not be told apart from other tests'.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { mailboxState } from '../mailbox/mailbox-support.js';
import { createTestStorage, startTestApp, type TestStorage } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessage } from '../helpers/factories.js';
import { type PrivatePostgres, privatePostgres, privatePostgresUnavailable } from '../helpers/private-postgres.js';
import { postJson, type ServiceProcess, startService } from '../helpers/service-process.js';
import { privateRedis, SQLITE_PASS_ONLY, testDatabaseUrl, uniqueName } from '../helpers/services.js';
import { listenLocally, openEventStream, type SseStream, until } from '../helpers/sse.js';

const onPostgres = testDatabaseUrl() !== undefined;
/** what the issue asks: a change through one instance reaches another instance's streams within this */
const ACROSS_MS = 1000;
/** after a cut: the link comes back (PostgreSQL: 250 ms, then doubling; Redis: 100 ms), then a resync */
const RESYNC_MS = 5000;
/** each event goes as soon as its notice comes: the delays measured are the transport's, not the coalescing's */
const NO_COALESCING = { EVENTS_MIN_INTERVAL_MS: '0' };

/** A stream on `base` that answered 200 and sent its first state. */
async function openedStream(t: TestContext, base: string, userId: number): Promise<SseStream> {
  const stream = await openEventStream(t, `${base}/users/${userId}/events`);
  assert.equal(stream.status, 200, stream.text());
  await stream.waitFor((event) => event.event === 'state', { timeoutMs: 3000 });
  return stream;
}

/**
 * Runs `change` (through instance A), then waits for `stream` to carry the user's state as `stateOf`
 * reads it afterwards; answers how long after the change's answer the event came (negative: before it).
 */
async function deliveredWithin(stream: SseStream, change: () => Promise<unknown>, stateOf: () => Promise<string>, limitMs: number, what: string): Promise<number> {
  const from = stream.events.length;
  await change();
  const answeredAt = Date.now();
  const state = await stateOf();
  const event = await stream.waitForState(state, { from, timeoutMs: limitMs + 2000 });
  const delay = event.at - answeredAt;
  assert.ok(delay < limitMs, `${what}: the event came ${delay} ms after the change was answered`);
  return delay;
}

describe('push between two apps on the suite’s PostgreSQL', { skip: onPostgres ? false : 'runs on PostgreSQL (TEST_DIALECT=postgres)' }, () => {
  test('a stream on instance B hears within a second a message sent through A, one the user sends through A, and a batch update through A', async (t) => {
    const storage = await createTestStorage(t, NO_COALESCING);
    const [a, b] = (await Promise.all([startTestApp(t, storage), startTestApp(t, storage)])) as [FastifyInstance, FastifyInstance];
    assert.equal(a.mailboxEvents.transport.name, 'postgres');
    assert.equal(b.mailboxEvents.transport.name, 'postgres');
    const [baseA, baseB] = [await listenLocally(a), await listenLocally(b)];
    const ada = await createUser(a);
    const bob = await createUser(b);
    const onB = await openedStream(t, baseB, bob.id);
    const onA = await openedStream(t, baseA, bob.id);
    const bobState = () => mailboxState(a, bob.id);

    await deliveredWithin(onB, () => sendMessage(a, ada.id, bob.id), bobState, ACROSS_MS, 'a message to him through A');
    await deliveredWithin(
      onB,
      () => a.inject({ method: 'POST', url: `/users/${bob.id}/messages`, payload: { to_userid: ada.id, subject: 's', message: 'm' } }),
      bobState,
      ACROSS_MS,
      'a message he sends through A',
    );
    const [received] = (await a.inject({ method: 'GET', url: `/users/${bob.id}/messages?folder=inbox` })).json<{ messages: { id: number }[] }>().messages;
    await deliveredWithin(onB, () => batchUpdate(a, { message_id_list: [received!.id], trash: 'true' }), bobState, ACROSS_MS, 'a batch update through A');
    // The stream on A itself hears the same, and both end at the same state.
    const final = await bobState();
    await onA.waitForState(final, { timeoutMs: 2000 });
    assert.equal(onB.states().at(-1), final);
  });
});

describe('push between two server processes on a PostgreSQL cluster of the test’s own', { skip: onPostgres ? privatePostgresUnavailable() : 'runs on PostgreSQL (TEST_DIALECT=postgres)' }, () => {
  let postgres: PrivatePostgres;
  before(async () => {
    postgres = await privatePostgres();
  });
  after(() => postgres?.remove());

  test('B hears A within a second; after every LISTEN connection is terminated, B gets the change made meanwhile and later ones; SIGTERM with a stream open exits within 5 s', { timeout: 90_000 }, async (t) => {
    const env = { ...NO_COALESCING, DATABASE_URL: postgres.url, REDIS_URL: '', RATE_LIMIT_MESSAGES_PER_MINUTE: '0', RATE_LIMIT_SIGNUP_PER_MINUTE: '0' };
    const services: ServiceProcess[] = [];
    t.after(() => services.forEach((service) => service.child.kill('SIGKILL')));
    services.push(await startService(env));
    services.push(await startService(env));
    const [a, b] = services as [ServiceProcess, ServiceProcess];
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    t.after(() => admin.end());
    const listeners = async () =>
      (await admin.query<{ pid: number }>("select pid from pg_stat_activity where query like 'LISTEN%' and pid <> pg_backend_pid()")).rows.map((row) => row.pid);
    await until(async () => (await listeners()).length === 2, 10_000, 'both instances to LISTEN');

    const user = async (name: string) => (await postJson(`${a.url}/users/`, { email: `${name}-${Date.now()}@example.com`, password: 'password-1' })).body as { id: number };
    const ada = await user('ada');
    const bob = await user('bob');
    const stream = await openedStream(t, b.url, bob.id);
    const send = async () => assert.equal((await postJson(`${a.url}/msg/create/`, { from_userid: ada.id, to_userid: bob.id, subject: 's', message: 'm' })).status, 200);
    const bobState = async () => {
      const response = await fetch(`${a.url}/users/${bob.id}/messages?limit=1`);
      assert.equal(response.status, 200);
      return response.headers.get('mailbox-state')!;
    };

    await deliveredWithin(stream, send, bobState, ACROSS_MS, 'a message through A');
    const ids = ((await (await fetch(`${a.url}/users/${bob.id}/messages`)).json()) as { messages: { id: number }[] }).messages.map((message) => message.id);
    await deliveredWithin(stream, () => postJson(`${a.url}/msg/list/`, { message_id_list: ids, read: 'true' }, 'PUT'), bobState, ACROSS_MS, 'a batch update through A');

    // Cut both instances' LISTEN connections (this cluster is the test's alone), and send at once: that notice is lost.
    const before = await listeners();
    const terminated = await admin.query<{ ok: boolean }>('select pg_terminate_backend(pid) as ok from unnest($1::int[]) as pid', [before]);
    assert.deepEqual(terminated.rows.map((row) => row.ok), [true, true]);
    await deliveredWithin(stream, send, bobState, RESYNC_MS, 'a message sent while B was not listening');
    await until(async () => (await listeners()).filter((pid) => !before.includes(pid)).length === 2, 10_000, 'both instances to LISTEN again');
    await deliveredWithin(stream, send, bobState, ACROSS_MS, 'a message after B listens again');
    assert.equal(stream.isClosed(), false);

    const started = Date.now();
    b.child.kill('SIGTERM');
    const code = await b.exited;
    const took = Date.now() - started;
    assert.ok(took < 5000, `B took ${took} ms to exit with a stream open`);
    assert.equal(code, 0, b.output());
    assert.equal((await stream.closed).how, 'end');
  });
});

describe('push between two apps on one SQLite file and one Redis prefix', { skip: SQLITE_PASS_ONLY }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'inbox-push-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function twoApps(t: TestContext, env: Record<string, string> = {}): Promise<{ storage: TestStorage; a: FastifyInstance; b: FastifyInstance; baseB: string }> {
    const storage = await createTestStorage(t, { ...NO_COALESCING, DATABASE_URL: `sqlite:${join(dir, `${uniqueName('inbox')}.db`)}`, ...env });
    const a = await startTestApp(t, storage);
    const b = await startTestApp(t, storage);
    assert.equal(a.mailboxEvents.transport.name, 'redis');
    assert.equal(b.mailboxEvents.transport.name, 'redis');
    return { storage, a, b, baseB: await listenLocally(b) };
  }

  test('a stream on instance B hears within a second a message sent through A, one the user sends through A, and a batch update through A', async (t) => {
    const { a, b, baseB } = await twoApps(t);
    const ada = await createUser(a);
    const bob = await createUser(b);
    const stream = await openedStream(t, baseB, bob.id);
    const bobState = () => mailboxState(a, bob.id);

    await deliveredWithin(stream, () => sendMessage(a, ada.id, bob.id), bobState, ACROSS_MS, 'a message to him through A');
    await deliveredWithin(
      stream,
      () => a.inject({ method: 'POST', url: `/users/${bob.id}/messages`, payload: { to_userid: ada.id, subject: 's', message: 'm' } }),
      bobState,
      ACROSS_MS,
      'a message he sends through A',
    );
    const [received] = (await a.inject({ method: 'GET', url: `/users/${bob.id}/messages?folder=inbox` })).json<{ messages: { id: number }[] }>().messages;
    await deliveredWithin(stream, () => batchUpdate(a, { message_id_list: [received!.id], read: 'true' }), bobState, ACROSS_MS, 'a batch update through A');
    assert.equal(await mailboxState(b, bob.id), stream.states().at(-1));
  });

  test('after the Redis subscribers are killed (a redis-server of the test’s own), B gets the change made meanwhile and later ones', async (t) => {
    const server = await privateRedis();
    t.after(() => server.stop());
    const { storage, a, baseB } = await twoApps(t, { REDIS_URL: server.url });
    const inspect = new Redis(server.url);
    t.after(() => inspect.disconnect());
    const channel = `${storage.prefix}mailbox:states`;
    const subscribers = async () => Number(((await inspect.pubsub('NUMSUB', channel)) as [string, number])[1]);
    await until(async () => (await subscribers()) === 2, 5000, 'both instances to subscribe');
    const ada = await createUser(a);
    const bob = await createUser(a);
    const stream = await openedStream(t, baseB, bob.id);
    const bobState = () => mailboxState(a, bob.id);
    await deliveredWithin(stream, () => sendMessage(a, ada.id, bob.id), bobState, ACROSS_MS, 'a message before the cut');

    const killed = Number(await inspect.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
    assert.equal(killed, 2);
    await deliveredWithin(stream, () => sendMessage(a, ada.id, bob.id), bobState, RESYNC_MS, 'a message sent while B was not subscribed');
    await until(async () => (await subscribers()) === 2, 5000, 'both instances to subscribe again');
    await deliveredWithin(stream, () => sendMessage(a, ada.id, bob.id), bobState, ACROSS_MS, 'a message after B subscribed again');
    assert.equal(stream.isClosed(), false);
  });
});
