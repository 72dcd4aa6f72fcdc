/**
 * Abuse limits: after the configured count, 429 {"detail":"Too many requests"} with Retry-After.
 * Counted in Redis when REDIS_URL is set (under the app's key prefix), in the process otherwise.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser } from '../helpers/factories.js';
import { uniqueName } from '../helpers/services.js';
import { authEnv, bearer, login, signUp } from './auth-support.js';

type Reply = { statusCode: number; body: string; headers: Record<string, unknown> };

function assertTooMany(response: Reply) {
  assert.equal(response.statusCode, 429, response.body);
  assert.equal(response.body, '{"detail":"Too many requests"}');
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${String(response.headers['retry-after'])}`);
}

function signUpFrom(app: FastifyInstance, ip: string) {
  return app.inject({ method: 'POST', url: '/users/', remoteAddress: ip, payload: { email: `${uniqueName('u')}@example.com`, password: 'pw' } });
}

function loginFrom(app: FastifyInstance, ip: string, email: string, password: string) {
  return app.inject({ method: 'POST', url: '/token', remoteAddress: ip, payload: { email, password } });
}

for (const store of ['redis', 'memory'] as const) {
  const storeEnv = store === 'memory' ? { REDIS_URL: '' } : {};

  describe(`rate limits kept in ${store}`, () => {
    test('sign-ups: per client IP, the one over the limit is a 429 with Retry-After and stores nothing', async (t) => {
      const { app, redis } = await buildTestApp(t, { ...storeEnv, RATE_LIMIT_SIGNUP_PER_MINUTE: '2' });
      for (let index = 0; index < 2; index += 1) assert.equal((await signUpFrom(app, '10.0.0.1')).statusCode, 200);
      assertTooMany(await signUpFrom(app, '10.0.0.1'));
      assert.equal((await app.db.selectFrom('users').select('id').execute()).length, 2);
      // Another address has its own allowance.
      assert.equal((await signUpFrom(app, '10.0.0.2')).statusCode, 200);
      if (store === 'redis') assert.equal(await redis.get('rate-limit:signup-ip:10.0.0.1'), '3');
    });

    test('login attempts: per email, whatever the address, and per address, whatever the email', async (t) => {
      const { app } = await buildTestApp(t, { ...storeEnv, ...authEnv('required', { RATE_LIMIT_TOKEN_PER_MINUTE: '3' }) });
      const ada = await signUp(app);
      // Per email: three guesses from three addresses, the fourth is refused even with the right password.
      for (const ip of ['10.1.0.1', '10.1.0.2', '10.1.0.3']) assert.equal((await loginFrom(app, ip, ada.email, 'guess')).statusCode, 401);
      assertTooMany(await loginFrom(app, '10.1.0.4', ada.email, 'secret'));
      // Per address: three emails from one address, the fourth is refused.
      for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) {
        assert.equal((await loginFrom(app, '10.2.0.1', email, 'guess')).statusCode, 401);
      }
      assertTooMany(await loginFrom(app, '10.2.0.1', 'd@example.com', 'guess'));
    });

    test('messages: per sender; another sender is not affected', async (t) => {
      const { app } = await buildTestApp(t, { ...storeEnv, RATE_LIMIT_MESSAGES_PER_MINUTE: '2' });
      const ada = await createUser(app);
      const bob = await createUser(app);
      const send = (from: number, to: number) =>
        app.inject({ method: 'POST', url: '/msg/create/', payload: { from_userid: from, to_userid: to, subject: 's', message: 'm' } });
      for (let index = 0; index < 2; index += 1) assert.equal((await send(ada.id, bob.id)).statusCode, 200);
      assertTooMany(await send(ada.id, bob.id));
      assert.equal((await send(bob.id, ada.id)).statusCode, 200);
      const stored = await app.db.selectFrom('messages').select('from_userid').execute();
      assert.deepEqual(stored.map((row) => row.from_userid).sort(), [ada.id, ada.id, bob.id].sort());
    });
  });
}

test('with a token, messages count against the caller', async (t) => {
  const { app } = await buildTestApp(t, authEnv('required', { RATE_LIMIT_MESSAGES_PER_MINUTE: '1' }));
  const ada = await signUp(app);
  const bob = await signUp(app);
  const headers = bearer(await login(app, ada.email));
  const send = () =>
    app.inject({ method: 'POST', url: '/msg/create/', headers, payload: { from_userid: ada.id, to_userid: bob.id, subject: 's', message: 'm' } });
  assert.equal((await send()).statusCode, 200);
  assertTooMany(await send());
});

test('a limit of 0 switches it off', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_SIGNUP_PER_MINUTE: '0' });
  for (let index = 0; index < 5; index += 1) assert.equal((await signUpFrom(app, '10.3.0.1')).statusCode, 200);
});

test('the defaults leave ordinary traffic alone: no rate limit headers on answers under the limit', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await signUpFrom(app, '10.4.0.1');
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['retry-after'], undefined);
  assert.equal(response.headers['x-ratelimit-limit'], undefined);
});
