import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { buildTestApp, createTestStorage } from '../helpers/build-test-app.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface LogLine {
  reqId?: string;
  msg?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  level: number;
}

/** The real app logging at info into an array, with one extra route that fails unexpectedly. */
async function appWithLogs(t: TestContext) {
  const storage = await createTestStorage(t, { LOG_LEVEL: 'info' });
  const lines: LogLine[] = [];
  const loggerStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const app = await buildApp(loadConfig(storage.env), { loggerStream, ...(storage.databaseSchema ? { databaseSchema: storage.databaseSchema } : {}) });
  app.get('/test-only/boom', { config: { access: 'caller' } }, async () => {
    throw new Error('an unexpected failure');
  });
  await app.ready();
  await app.spamReports.settled();
  t.after(() => app.close());
  return { app, lines };
}

describe('X-Request-Id', () => {
  test('a valid incoming id is echoed back', async (t) => {
    const { app } = await buildTestApp(t);
    for (const id of ['abc-123', 'trace.id:42_X', 'a', 'x'.repeat(128)]) {
      const response = await app.inject({ method: 'GET', url: '/', headers: { 'x-request-id': id } });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['x-request-id'], id);
    }
  });

  test('without one, or with an invalid one, a new UUID is generated', async (t) => {
    const { app } = await buildTestApp(t);
    const absent = await app.inject({ method: 'GET', url: '/' });
    assert.match(String(absent.headers['x-request-id']), UUID);
    const another = await app.inject({ method: 'GET', url: '/' });
    assert.notEqual(another.headers['x-request-id'], absent.headers['x-request-id']);

    for (const invalid of ['', 'has space', 'semi;colon', 'x'.repeat(129), 'ünïcode', '<script>']) {
      const response = await app.inject({ method: 'GET', url: '/', headers: { 'x-request-id': invalid } });
      assert.match(String(response.headers['x-request-id']), UUID, JSON.stringify(invalid));
    }
  });

  test('error answers carry it too: 404, 405, 422 and 500', async (t) => {
    const { app } = await appWithLogs(t);
    const cases = [
      { method: 'GET', url: '/no/such/route', status: 404 },
      { method: 'GET', url: '/users/987654', status: 404 },
      { method: 'DELETE', url: '/msg/create/', status: 405 },
      { method: 'GET', url: '/users/not-a-number', status: 422 },
      { method: 'POST', url: '/users/', status: 422, payload: '{not json' },
      { method: 'GET', url: '/test-only/boom', status: 500 },
    ] as const;
    for (const [index, { method, url, status, ...rest }] of cases.entries()) {
      const id = `error-case-${index}`;
      const payload = 'payload' in rest ? rest.payload : undefined;
      const response = await app.inject({ method, url, headers: { 'x-request-id': id, 'content-type': 'application/json' }, payload });
      assert.equal(response.statusCode, status, `${method} ${url}`);
      assert.equal(response.headers['x-request-id'], id, `${method} ${url}`);
    }
    const generated = await app.inject({ method: 'GET', url: '/test-only/boom' });
    assert.match(String(generated.headers['x-request-id']), UUID);
  });

  test('every log line of a request carries its id, the unexpected-error line included', async (t) => {
    const { app, lines } = await appWithLogs(t);
    await app.inject({ method: 'GET', url: '/users/', headers: { 'x-request-id': 'trace-ok-1' } });
    await app.inject({ method: 'GET', url: '/test-only/boom', headers: { 'x-request-id': 'trace-boom-1' } });

    const messagesOf = (id: string) => lines.filter((line) => line.reqId === id).map((line) => line.msg);
    // One line per request (with its method, URL and status), and the unexpected error's line before it.
    assert.deepEqual(messagesOf('trace-ok-1'), ['request completed']);
    assert.deepEqual(messagesOf('trace-boom-1'), ['unhandled error', 'request completed']);
    const completed = lines.find((line) => line.reqId === 'trace-ok-1');
    assert.deepEqual([completed?.req?.method, completed?.req?.url, completed?.res?.statusCode], ['GET', '/users/', 200]);
    // No line about a request (one with `req` or `res`) lacks an id.
    assert.deepEqual(lines.filter((line) => (line.req !== undefined || line.res !== undefined) && line.reqId === undefined), []);
  });
});
