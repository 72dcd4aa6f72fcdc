/**
 * GET /users/{id}/events (Server-Sent Events) on a listening server, read by a streaming client:
 * the headers and first state, an event for each change of the user's mailbox (and none for others'),
 * bursts coalesced, heartbeats, the per-user and per-instance stream limits, token expiry, shutdown,
 * and the refusals. Runs on both databases (in-process delivery on SQLite's in-memory database with
 * Redis, NOTIFY on PostgreSQL).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { decodeState } from '../../src/modules/mailbox/mailbox-state.js';
import { account, assertNotAuthenticated, authEnv, bearer, login } from '../auth/auth-support.js';
import { buildTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessage } from '../helpers/factories.js';
import { listenLocally, openEventStream, type SseStream, stateOfEvent, until } from '../helpers/sse.js';
import { assertDetail, mailboxState, sendMail } from './mailbox-support.js';

type Env = Record<string, string>;

interface LiveApp {
  app: FastifyInstance;
  base: string;
  /** opens a stream (any answer) */
  events: (userId: number | string, headers?: Record<string, string>) => Promise<SseStream>;
  /** opens a stream that must answer 200 and send its first state event */
  opened: (userId: number, headers?: Record<string, string>) => Promise<SseStream>;
}

async function liveApp(t: TestContext, env: Env = {}): Promise<LiveApp> {
  const { app } = await buildTestApp(t, env);
  const base = await listenLocally(app);
  const events = (userId: number | string, headers: Record<string, string> = {}) => openEventStream(t, `${base}/users/${userId}/events`, headers);
  const opened = async (userId: number, headers: Record<string, string> = {}) => {
    const stream = await events(userId, headers);
    assert.equal(stream.status, 200, stream.text());
    await stream.waitFor((event) => event.event === 'state', { timeoutMs: 3000 });
    return stream;
  };
  return { app, base, events, opened };
}

/** `promise`, or a failure after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seqOf = (state: string) => decodeState(state).seq;

/** The whole body of a refused stream, parsed. */
async function refusal(stream: SseStream): Promise<unknown> {
  await within(stream.closed, 3000, 'the refusal to end');
  return JSON.parse(stream.text());
}

test('a stream answers 200 with event-stream headers, a retry hint, then at once the state that the listing and the folders carry', async (t) => {
  const { app, events } = await liveApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const carol = await createUser(app);
  await sendMessage(app, ada.id, bob.id);
  await sendMessage(app, ada.id, bob.id);
  const state = await mailboxState(app, bob.id);
  const folders = await app.inject({ method: 'GET', url: `/users/${bob.id}/folders` });
  assert.equal(folders.headers['mailbox-state'], state);

  const stream = await events(bob.id);
  const first = await stream.waitFor(() => true, { timeoutMs: 2000 });

  assert.equal(stream.status, 200);
  assert.equal(stream.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(stream.headers['cache-control'], 'no-store');
  assert.equal(stream.headers['x-accel-buffering'], 'no');
  assert.match(String(stream.headers['x-request-id']), /^\S+$/);
  assert.equal(stream.headers['content-length'], undefined);
  assert.ok(first.at - stream.openedAt < 1000, `the first state came ${first.at - stream.openedAt} ms after the headers`);
  // Exactly this on the wire: the reconnection hint, then the state event (no heartbeat yet at the default 25 s).
  assert.equal(stream.text(), `retry: 3000\n\nevent: state\ndata: {"state":"${state}"}\n\n`);
  assert.equal(stream.retry, 3000);
  assert.deepEqual(JSON.parse(first.data), { state });

  // A user whose mailbox never changed gets their first state too.
  const quiet = await events(carol.id);
  assert.equal(stateOfEvent(await quiet.waitFor(() => true)), await mailboxState(app, carol.id));
});

test("each change of the user's mailbox brings an event with the new Mailbox-State; others' mail and a batch that changes nothing bring none", async (t) => {
  const { app, opened } = await liveApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const carol = await createUser(app);
  const stream = await opened(bob.id);
  let received: number;

  const steps: [string, () => Promise<unknown>][] = [
    ['a message to him (POST /msg/create/)', () => sendMessage(app, ada.id, bob.id)],
    ['a message he sends (POST /users/{id}/messages)', () => sendMail(app, bob.id, { to_userid: carol.id, subject: 's', message: 'm' })],
    ['a message he sends (POST /msg/create/)', () => sendMessage(app, bob.id, ada.id)],
    ['a message to him (POST /users/{id}/messages)', () => sendMail(app, carol.id, { to_userid: bob.id, subject: 's', message: 'm' })],
    ['a message to himself', () => sendMessage(app, bob.id, bob.id)],
    [
      'a batch update of his mail (read)',
      async () => {
        const page = await app.inject({ method: 'GET', url: `/users/${bob.id}/messages?folder=inbox` });
        const ids = page.json<{ messages: { id: number }[] }>().messages.map((message) => message.id);
        const response = await batchUpdate(app, { message_id_list: ids, read: 'true' });
        assert.equal(response.statusCode, 200, response.body);
      },
    ],
  ];
  let previous = stream.states().at(-1)!;
  for (const [what, change] of steps) {
    received = stream.events.length;
    await change();
    const state = await mailboxState(app, bob.id);
    assert.ok(seqOf(state) > seqOf(previous), `${what}: the state did not advance`);
    await stream.waitForState(state, { from: received, timeoutMs: 3000 });
    previous = state;
  }

  // Nothing of Bob's changes: no event (waited well past the 250 ms coalescing interval).
  received = stream.events.length;
  await sendMessage(app, ada.id, carol.id);
  const ids = (await app.inject({ method: 'GET', url: `/users/${bob.id}/messages?folder=inbox` })).json<{ messages: { id: number }[] }>().messages;
  const again = await batchUpdate(app, { message_id_list: ids.map((message) => message.id), read: 'true' });
  assert.equal(again.statusCode, 200, again.body);
  await pause(700);
  assert.equal(await mailboxState(app, bob.id), previous);
  assert.deepEqual(stream.events.slice(received), [], 'events for changes that were not his');
  assert.equal(stream.isClosed(), false);
});

test('30 messages sent at once bring a few coalesced events (EVENTS_MIN_INTERVAL_MS=200): the last is the final state, none goes backwards', async (t) => {
  const { app, opened } = await liveApp(t, { EVENTS_MIN_INTERVAL_MS: '200' });
  const ada = await createUser(app);
  const bob = await createUser(app);
  const stream = await opened(bob.id);
  const initial = stream.states()[0]!;

  const started = Date.now();
  await Promise.all(Array.from({ length: 30 }, (_, index) => sendMessage(app, ada.id, bob.id, { subject: `#${index}` })));
  const final = await mailboxState(app, bob.id);
  assert.equal(seqOf(final), seqOf(initial) + 30);
  const last = await stream.waitForState(final, { timeoutMs: 3000 });
  const duration = last.at - started;
  // Nothing after the final state.
  await pause(600);

  const later = stream.events.slice(1);
  const states = stream.states();
  assert.equal(states.at(-1), final, 'the last event is the final state');
  assert.equal(stream.events.at(-1), last);
  assert.ok(later.length <= Math.floor(duration / 200) + 2, `${later.length} events in ${duration} ms`);
  assert.ok(later.length < 15, `${later.length} events for 30 messages`);
  for (let index = 1; index < states.length; index += 1) {
    assert.ok(seqOf(states[index]!) > seqOf(states[index - 1]!), `states went backwards or repeated: ${states.map(seqOf).join(', ')}`);
  }
  // At most one event per interval (half of it allowed for the client's own delays).
  for (let index = 1; index < stream.events.length; index += 1) {
    const gap = stream.events[index]!.at - stream.events[index - 1]!.at;
    assert.ok(gap >= 100, `two events ${gap} ms apart: ${stream.events.map((event) => event.at - started).join(', ')}`);
  }
});

test('heartbeat: with EVENTS_HEARTBEAT_MS=150 `: keep-alive` comments arrive, and no state event with them', async (t) => {
  const { app, opened } = await liveApp(t, { EVENTS_HEARTBEAT_MS: '150' });
  const bob = await createUser(app);
  const stream = await opened(bob.id);

  await until(() => stream.comments.length >= 3, 3000, 'three heartbeats');

  assert.ok(stream.comments.every((comment) => comment.text === 'keep-alive'), JSON.stringify(stream.comments));
  assert.ok(stream.text().includes('\n\n: keep-alive\n\n'), JSON.stringify(stream.text()));
  assert.equal(stream.events.length, 1);
  assert.equal(stream.isClosed(), false);
});

test("a stream outlives the server's socket idle and request timeouts (the heartbeat is its only traffic)", async (t) => {
  const { app, opened } = await liveApp(t, { SOCKET_IDLE_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '300', HEADERS_TIMEOUT_MS: '300', KEEP_ALIVE_TIMEOUT_MS: '300' });
  const ada = await createUser(app);
  const bob = await createUser(app);
  const stream = await opened(bob.id);

  // Node checks the request timeout every second: two checks pass.
  await pause(2500);
  assert.equal(stream.isClosed(), false, 'the stream was closed by a timeout');
  await sendMessage(app, ada.id, bob.id);
  await stream.waitForState(await mailboxState(app, bob.id), { timeoutMs: 3000 });
});

test("EVENTS_MAX_STREAMS_PER_USER=2: a user's third stream ends their oldest; their other two and another user's streams keep working", async (t) => {
  const { app, opened } = await liveApp(t, { EVENTS_MAX_STREAMS_PER_USER: '2' });
  const ada = await createUser(app);
  const bob = await createUser(app);
  const carol = await createUser(app);
  const [bob1, bob2] = [await opened(bob.id), await opened(bob.id)];
  const [carol1, carol2] = [await opened(carol.id), await opened(carol.id)];

  const bob3 = await opened(bob.id);

  const ended = await within(bob1.closed, 2000, "the oldest stream's end");
  assert.equal(ended.how, 'end', 'the oldest stream is ended by the server (its body ends), not cut');
  for (const stream of [bob2, bob3, carol1, carol2]) assert.equal(stream.isClosed(), false);
  assert.equal(app.mailboxEvents.streams.size, 4);

  await sendMessage(app, ada.id, bob.id);
  const bobState = await mailboxState(app, bob.id);
  await Promise.all([bob2, bob3].map((stream) => stream.waitForState(bobState, { timeoutMs: 3000 })));
  await sendMessage(app, ada.id, carol.id);
  const carolState = await mailboxState(app, carol.id);
  await Promise.all([carol1, carol2].map((stream) => stream.waitForState(carolState, { timeoutMs: 3000 })));
  assert.equal(bob1.events.length, 1);
  assert.deepEqual(carol1.states().slice(1), [carolState]);
});

test('EVENTS_MAX_STREAMS=2: a third stream is a 503 with Retry-After; once one closes, a new one opens', async (t) => {
  const { app, events, opened } = await liveApp(t, { EVENTS_MAX_STREAMS: '2' });
  const ada = await createUser(app);
  const bob = await createUser(app);
  const carol = await createUser(app);
  const first = await opened(bob.id);
  const second = await opened(carol.id);

  for (const userId of [ada.id, bob.id]) {
    const refused = await events(userId);
    assert.equal(refused.status, 503, refused.text());
    assert.match(String(refused.headers['content-type']), /^application\/json/);
    assert.match(String(refused.headers['retry-after']), /^[1-9]\d*$/);
    assert.deepEqual(await refusal(refused), { detail: 'Service unavailable' });
  }

  first.close();
  await until(() => app.mailboxEvents.streams.size === 1, 3000, 'the closed stream to be let go');
  const third = await opened(ada.id);
  assert.equal(third.states()[0], await mailboxState(app, ada.id));
  await sendMessage(app, ada.id, carol.id);
  await second.waitForState(await mailboxState(app, carol.id), { timeoutMs: 3000 });
  await third.waitForState(await mailboxState(app, ada.id), { timeoutMs: 3000 });
});

test('a client that hangs up while its stream is opening leaves no stream behind (EVENTS_MAX_STREAMS=5)', async (t) => {
  const { app, events, base } = await liveApp(t, { EVENTS_MAX_STREAMS: '5', EVENTS_HEARTBEAT_MS: '100' });
  const bob = await createUser(app);
  const carol = await createUser(app);

  // Hang up at moments spread over the route's database reads (0-9 ms after sending the request).
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const hangUp = request(`${base}/users/${bob.id}/events`, { agent: false });
    hangUp.on('error', () => {});
    hangUp.end();
    await pause(attempt % 10);
    hangUp.destroy();
  }
  await pause(500);

  // Nobody holds a stream now: another user's stream opens, and none is counted but theirs.
  const left = app.mailboxEvents.streams.size;
  const stream = await events(carol.id);
  assert.equal(stream.status, 200, `refused with ${left} streams of clients that hung up still counted: ${stream.text()}`);
  assert.equal(left, 0, `${left} streams of clients that hung up are still counted`);
  await stream.waitForState(await mailboxState(app, carol.id));
});

test('AUTH_MODE=required: 401 without a token, 403 with another user\'s; the own stream opens and ends by itself once the token expires', async (t) => {
  const { app, events } = await liveApp(t, authEnv('required', { AUTH_TOKEN_TTL_SECONDS: '2' }));
  const ada = await account(app);
  const bob = await account(app);

  const anonymous = await events(bob.user.id);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
  assert.deepEqual(await refusal(anonymous), { detail: 'Not authenticated' });
  const other = await events(bob.user.id, ada.headers);
  assert.equal(other.status, 403);
  assert.deepEqual(await refusal(other), { detail: 'Not allowed' });

  const token = await login(app, bob.user.email);
  const expiresAt = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp * 1000;
  const state = await mailboxState(app, bob.user.id, bearer(token));
  const stream = await events(bob.user.id, bearer(token));
  assert.equal(stream.status, 200, stream.text());
  assert.equal(stateOfEvent(await stream.waitFor(() => true)), state);

  const ended = await within(stream.closed, Math.max(0, expiresAt - Date.now()) + 4000, 'the stream to end after its token expired');
  assert.equal(ended.how, 'end');
  assert.ok(ended.at >= expiresAt - 100, `ended ${expiresAt - ended.at} ms before the token expired`);
  assert.ok(ended.at <= expiresAt + 3000, `ended ${ended.at - expiresAt} ms after the token expired`);
  // The client reconnects with the expired token: refused.
  assertNotAuthenticated(await app.inject({ method: 'GET', url: `/users/${bob.user.id}/events`, headers: bearer(token) }));
});

test('app.close() with 3 open streams ends them and finishes in well under 5 s', async (t) => {
  const { app, opened } = await liveApp(t);
  const bob = await createUser(app);
  const carol = await createUser(app);
  const streams = [await opened(bob.id), await opened(bob.id), await opened(carol.id)];

  const started = Date.now();
  await app.close();
  const took = Date.now() - started;

  assert.ok(took < 2000, `app.close() took ${took} ms`);
  const ends = await within(Promise.all(streams.map((stream) => stream.closed)), 2000, 'the streams to end');
  assert.deepEqual(
    ends.map((end) => end.how),
    ['end', 'end', 'end'],
  );
});

test('unknown user: 404 User not found; malformed id: 422 at ["path","user_id"]', async (t) => {
  const { app, events } = await liveApp(t);
  const ada = await createUser(app);

  const unknown = await events(ada.id + 1000);
  assert.equal(unknown.status, 404);
  assert.deepEqual(await refusal(unknown), { detail: 'User not found' });
  for (const [id, issue] of [
    ['abc', { msg: 'value is not a valid integer', type: 'type_error.integer' }],
    ['1.5', { msg: 'value is not a valid integer', type: 'type_error.integer' }],
  ] as const) {
    assertDetail(await app.inject({ method: 'GET', url: `/users/${id}/events` }), 422, [{ loc: ['path', 'user_id'], ...issue }]);
  }
  const bad = await events('abc');
  assert.equal(bad.status, 422);
  await refusal(bad);
});
