import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { pino } from 'pino';
import { writeCompletedLine } from '../../src/plugins/request-log.js';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createTestStorage } from '../helpers/build-test-app.js';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      done();
    },
  });
  return { lines, stream };
}

const withoutTime = (line: string) => line.replace(/"time":\d+/, '"time":0');

test('the "request completed" line is the one pino writes for the same request, byte for byte', async () => {
  const { lines, stream } = capture();
  const serializers = { req: (request: { method: string; url: string; host: string }) => ({ method: request.method, url: request.url, host: request.host, version: undefined }) };
  const log = pino({ serializers }, stream).child({ reqId: 'id "quoted" \\ é' });
  const request = { method: 'PUT', url: '/msg/list/?a="b"', host: 'example.com:8000' };
  const reply = { statusCode: 201, elapsedTime: 1.2345678 };
  log.info({ req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed');
  const written = writeCompletedLine(log as unknown as FastifyBaseLogger, request as unknown as FastifyRequest, reply as unknown as FastifyReply);
  assert.ok(written, 'a pino logger has what the line is written with');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(lines.length, 2);
  const [pinos, ours] = lines.map(withoutTime);
  assert.equal(ours, pinos);
});

test('a served request writes one such line, with its id, request, status and time; none below the info level', async (t) => {
  const { lines, stream } = capture();
  const storage = await createTestStorage(t, { LOG_LEVEL: 'info' });
  const app = await buildApp(loadConfig(storage.env), { loggerStream: stream, ...(storage.databaseSchema ? { databaseSchema: storage.databaseSchema } : {}) });
  t.after(() => app.close());
  const response = await app.inject({ method: 'GET', url: '/', headers: { 'x-request-id': 'log-line-1' } });
  assert.equal(response.statusCode, 200);
  await new Promise((resolve) => setImmediate(resolve));
  const line = lines.map((text) => JSON.parse(text) as Record<string, unknown>).find((entry) => entry.reqId === 'log-line-1');
  assert.ok(line, 'the line of the request');
  assert.deepEqual(Object.keys(line), ['level', 'time', 'pid', 'hostname', 'reqId', 'req', 'res', 'responseTime', 'msg']);
  assert.deepEqual([line.level, line.msg, line.res], [30, 'request completed', { statusCode: 200 }]);
  assert.deepEqual((line.req as Record<string, unknown>).method, 'GET');
  assert.equal(typeof line.responseTime, 'number');

  app.log.level = 'warn';
  await app.inject({ method: 'GET', url: '/', headers: { 'x-request-id': 'log-line-2' } });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(lines.filter((text) => text.includes('log-line-2')).length, 0);
});
