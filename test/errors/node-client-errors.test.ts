/**
 * Requests Node refuses before Fastify sees them (a malformed request line, headers too large, a
 * request too slow, chunk extensions too large) are answered like every other error: JSON
 * `{"detail": …}` with its content type and length, then the connection is closed.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';
import { openRaw, parseAnswer } from '../helpers/raw-socket.js';
import { SQLITE_PASS_ONLY } from '../helpers/services.js';

async function listeningApp(t: TestContext, env: Record<string, string> = {}): Promise<number> {
  const { app } = await buildTestApp(t, env);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/** Sends `request` raw and returns the server's answer once it has closed the connection. */
async function exchange(port: number, request: string) {
  const raw = await openRaw(port);
  raw.socket.write(request);
  const { received, afterMs } = await raw.closed;
  return { answer: parseAnswer(received), afterMs };
}

function assertJsonAnswer(answer: ReturnType<typeof parseAnswer>, status: number, detail: string) {
  assert.equal(answer.status, status, JSON.stringify(answer));
  assert.equal(answer.headers['content-type'], 'application/json');
  assert.equal(answer.headers.connection, 'close');
  assert.equal(Number(answer.headers['content-length']), Buffer.byteLength(answer.body));
  assert.deepEqual(JSON.parse(answer.body), { detail });
}

test('a malformed request line is a 400 {"detail":"Bad Request"} in JSON and the connection closes', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t);
  for (const request of ['GARBAGE\r\n\r\n', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', 'GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n']) {
    const { answer } = await exchange(port, request);
    assertJsonAnswer(answer, 400, 'Bad Request');
  }
});

test('a malformed header is a 400 in JSON too', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t);
  const { answer } = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n');
  assertJsonAnswer(answer, 400, 'Bad Request');
});

test("headers over Node's 16 KiB limit are a 431 {\"detail\":\"Request Header Fields Too Large\"}", { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t);
  const { answer } = await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
  assertJsonAnswer(answer, 431, 'Request Header Fields Too Large');
});

test('chunk extensions over the limit are a 413 in JSON', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t);
  const request =
    'POST /msg/create/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
    `1;${'a'.repeat(20 * 1024)}\r\n{\r\n0\r\n\r\n`;
  const { answer } = await exchange(port, request);
  assertJsonAnswer(answer, 413, 'Payload Too Large');
});

test('headers that do not finish in time are a 408 {"detail":"Request Timeout"} and the connection closes', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t, { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '1000' });
  const { answer, afterMs } = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n');
  assertJsonAnswer(answer, 408, 'Request Timeout');
  assert.ok(afterMs < 4000, `closed after ${afterMs} ms`);
});

test('a well-formed request on the same server still gets its normal answer', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const port = await listeningApp(t);
  const { answer } = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(answer.status, 200);
  assert.deepEqual(JSON.parse(answer.body), { Hello: 'World' });
});
