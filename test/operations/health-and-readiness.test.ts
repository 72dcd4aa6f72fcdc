import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SECRET } from '../auth/auth-support.js';
import { buildTestApp } from '../helpers/build-test-app.js';
import { eventually, privateRedis } from '../helpers/services.js';

interface Readiness {
  status: string;
  checks: { database: string; redis: string };
}

async function readiness(app: FastifyInstance): Promise<{ statusCode: number; body: Readiness }> {
  const response = await app.inject({ method: 'GET', url: '/readyz' });
  return { statusCode: response.statusCode, body: response.json<Readiness>() };
}

describe('liveness', () => {
  test('GET /healthz answers 200 {"status":"ok"}', async (t) => {
    const { app } = await buildTestApp(t);
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, '{"status":"ok"}');
  });
});

describe('readiness', () => {
  test('with the database and Redis answering, GET /readyz is 200 and says both are ok', async (t) => {
    const { app } = await buildTestApp(t);
    assert.deepEqual(await readiness(app), { statusCode: 200, body: { status: 'ready', checks: { database: 'ok', redis: 'ok' } } });
  });

  test('without REDIS_URL, GET /readyz is 200 with Redis "not configured"', async (t) => {
    const { app } = await buildTestApp(t, { REDIS_URL: '' });
    assert.deepEqual(await readiness(app), { statusCode: 200, body: { status: 'ready', checks: { database: 'ok', redis: 'not configured' } } });
  });

  test('when Redis stops, GET /readyz turns 503 naming Redis, and 200 again once Redis is back', async (t) => {
    const server = await privateRedis();
    t.after(() => server.stop());
    const { app } = await buildTestApp(t, { REDIS_URL: server.url, REDIS_TIMEOUT_MS: '300' });
    assert.equal((await readiness(app)).statusCode, 200);

    await server.stop();
    let down: Awaited<ReturnType<typeof readiness>> | undefined;
    await eventually(async () => (down = await readiness(app)).statusCode === 503, 5_000, 'readiness 503');
    assert.deepEqual(down?.body, { status: 'not ready', checks: { database: 'ok', redis: 'unavailable' } });
    // Liveness does no I/O: the process is still alive.
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);

    await server.start();
    await eventually(async () => (await readiness(app)).statusCode === 200, 15_000, 'readiness 200 after Redis is back');
    assert.deepEqual((await readiness(app)).body, { status: 'ready', checks: { database: 'ok', redis: 'ok' } });
  });

  test('when the database is gone, GET /readyz is 503 naming the database', async (t) => {
    const { app } = await buildTestApp(t);
    await app.db.destroy();
    assert.deepEqual(await readiness(app), { statusCode: 503, body: { status: 'not ready', checks: { database: 'unavailable', redis: 'ok' } } });
  });
});

describe('with AUTH_MODE=required', () => {
  test('/healthz, /readyz and /metrics answer without a token', async (t) => {
    const { app } = await buildTestApp(t, { AUTH_MODE: 'required', AUTH_SECRET: SECRET });
    assert.equal((await app.inject({ method: 'GET', url: '/msg/list/' })).statusCode, 401);
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
    }
  });
});

describe('the OpenAPI document', () => {
  test('describes /healthz, /readyz (200 and 503) and /metrics with examples', async (t) => {
    const { app } = await buildTestApp(t);
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, { get?: { responses: Record<string, { content: Record<string, { example?: unknown; schema: { examples?: unknown[] } }> }> } }>;
    }>();
    const exampleOf = (path: string, status: string, type = 'application/json') => {
      const media = document.paths[path]?.get?.responses[status]?.content[type];
      return media?.example ?? media?.schema.examples?.[0];
    };
    assert.deepEqual(exampleOf('/healthz', '200'), { status: 'ok' });
    assert.deepEqual(exampleOf('/readyz', '200'), { status: 'ready', checks: { database: 'ok', redis: 'ok' } });
    assert.deepEqual(exampleOf('/readyz', '503'), { status: 'not ready', checks: { database: 'ok', redis: 'unavailable' } });
    assert.match(String(exampleOf('/metrics', '200', 'text/plain')), /^# HELP http_requests_total/);
  });
});
