/**
 * A client that is slow or stalls cannot hold a socket: with 1-second timeouts, headers that never
 * finish, a body that stops, a body that trickles, an idle keep-alive connection and a connection
 * that never speaks are each closed within a few seconds, and whatever the server wrote is JSON in
 * the contract's shape.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';
import { openRaw, parseAnswer } from '../helpers/raw-socket.js';
import { SQLITE_PASS_ONLY } from '../helpers/services.js';

const TIMEOUTS = { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '1500', KEEP_ALIVE_TIMEOUT_MS: '1000', SOCKET_IDLE_TIMEOUT_MS: '3000' };
/** the longest timeout above, plus Node's one-second check interval, plus room for a loaded machine */
const CLOSED_WITHIN_MS = 3000 + 1000 + 1500;

async function listeningApp(t: TestContext): Promise<number> {
  const { app } = await buildTestApp(t, TIMEOUTS);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/** What a server wrote before closing: nothing, or one answer in the contract's error shape. */
function assertTimeoutAnswer(received: string) {
  const answer = parseAnswer(received);
  assert.equal(answer.status, 408, received);
  assert.equal(answer.headers['content-type'], 'application/json');
  assert.equal(Number(answer.headers['content-length']), Buffer.byteLength(answer.body));
  assert.deepEqual(JSON.parse(answer.body), { detail: 'Request Timeout' });
}

const POST_HEAD = 'POST /msg/create/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';

test('headers that never finish: the socket is closed within seconds with a 408', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t);
  const raw = await openRaw(port);
  raw.socket.write('GET /users/ HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  const { received, afterMs } = await raw.closed;
  assert.ok(afterMs < CLOSED_WITHIN_MS, `closed after ${afterMs} ms`);
  assertTimeoutAnswer(received);
});

test('a body that stops halfway: the socket is closed within seconds with a 408', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t);
  const raw = await openRaw(port);
  raw.socket.write(`${POST_HEAD}{"from_userid": 1, "subj`);
  const { received, afterMs } = await raw.closed;
  assert.ok(afterMs < CLOSED_WITHIN_MS, `closed after ${afterMs} ms`);
  assertTimeoutAnswer(received);
});

test('a body that trickles a byte every 200 ms: the socket is closed within seconds with a 408', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t);
  const raw = await openRaw(port);
  raw.socket.write(POST_HEAD);
  // 1000 bytes at 5 a second would take 200 s; the trickle stops when the server closes (or after 60 bytes).
  let sent = 0;
  const trickle = setInterval(() => {
    if (raw.socket.destroyed || sent >= 60) return clearInterval(trickle);
    raw.socket.write(' ');
    sent += 1;
  }, 200);
  t.after(() => clearInterval(trickle));
  const { received, afterMs } = await raw.closed;
  clearInterval(trickle);
  assert.ok(afterMs < CLOSED_WITHIN_MS, `closed after ${afterMs} ms, ${sent} bytes trickled`);
  assert.ok(sent >= 3, `the trickle was still going (${sent} bytes) when the socket closed`);
  assertTimeoutAnswer(received);
});

test('an idle keep-alive connection is closed after its answer, and nothing more is written', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t);
  const raw = await openRaw(port);
  raw.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const { received, afterMs } = await raw.closed;
  assert.ok(afterMs < CLOSED_WITHIN_MS, `closed after ${afterMs} ms`);
  const answer = parseAnswer(received);
  assert.equal(answer.status, 200);
  assert.equal(answer.body, '{"Hello":"World"}');
  // exactly one answer: the close itself wrote nothing
  assert.equal(received.indexOf('HTTP/1.1', 1), -1, received);
});

test('a connection that never sends a byte is closed within seconds (a 408 at most)', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t);
  const raw = await openRaw(port);
  const { received, afterMs } = await raw.closed;
  assert.ok(afterMs < CLOSED_WITHIN_MS, `closed after ${afterMs} ms`);
  if (received !== '') assertTimeoutAnswer(received);
});

test('a client that sends its request at a normal pace is not cut off', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t);
  const raw = await openRaw(port);
  // headers in two writes 300 ms apart, then the body: well within the timeouts
  raw.socket.write('POST /users/ HTTP/1.1\r\nHost: x\r\n');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const body = JSON.stringify({ email: 'pace@example.com', password: 'long enough password' });
  raw.socket.write(`Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  const { received } = await raw.closed;
  const answer = parseAnswer(received);
  assert.equal(answer.status, 200, received);
  assert.equal(JSON.parse(answer.body).email, 'pace@example.com');
});
