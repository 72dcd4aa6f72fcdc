/**
 * Abuse limits: after the configured count, 429 {"detail":"Too many requests"} with Retry-After.
 * Counted in Redis when REDIS_URL is set (under the app's key prefix), in the process otherwise,
 * and in the process while Redis is down. Off in drop-in mode unless configured.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { clientAddressKey } from '../../src/plugins/rate-limit.js';
import { buildTestApp, createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { createUser } from '../helpers/factories.js';
import { privateRedis, uniqueName } from '../helpers/services.js';
import { authEnv, bearer, login, signUp } from './auth-support.js';

type Reply = { statusCode: number; body: string; headers: Record<string, unknown> };

function assertTooMany(response: Reply) {
  assert.equal(response.statusCode, 429, response.body);
  assert.equal(response.body, '{"detail":"Too many requests"}');
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${String(response.headers['retry-after'])}`);
}

function signUpFrom(app: FastifyInstance, ip: string, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/users/',
    remoteAddress: ip,
    headers,
    payload: { email: `${uniqueName('u')}@example.com`, password: 'password-1' },
  });
}

function loginFrom(app: FastifyInstance, ip: string, email: string, password: string) {
  return app.inject({ method: 'POST', url: '/token', remoteAddress: ip, payload: { email, password } });
}

for (const store of ['redis', 'memory'] as const) {
  const storeEnv = store === 'memory' ? { REDIS_URL: '' } : {};

  describe(`rate limits kept in ${store}`, () => {
    test('sign-ups: per client address, the one over the limit is a 429 with Retry-After and stores nothing', async (t) => {
      const { app, redis } = await buildTestApp(t, { ...storeEnv, RATE_LIMIT_SIGNUP_PER_MINUTE: '2' });
      for (let index = 0; index < 2; index += 1) assert.equal((await signUpFrom(app, '10.0.0.1')).statusCode, 200);
      assertTooMany(await signUpFrom(app, '10.0.0.1'));
      assert.equal((await app.db.selectFrom('users').select('id').execute()).length, 2);
      // Another address has its own allowance.
      assert.equal((await signUpFrom(app, '10.0.0.2')).statusCode, 200);
      if (store === 'redis') assert.equal(await redis.get('rate-limit:signup-address:10.0.0.1'), '3');
    });

    test('nineteen wrong passwords from nineteen addresses do not lock the owner out', async (t) => {
      const { app } = await buildTestApp(t, { ...storeEnv, ...authEnv('required') });
      const ada = await signUp(app);
      for (let index = 1; index <= 19; index += 1) {
        assert.equal((await loginFrom(app, `10.9.0.${index}`, ada.email, `guess-${index}`)).statusCode, 401);
      }
      assert.equal((await loginFrom(app, '10.9.1.1', ada.email, 'secret-password')).statusCode, 200);
    });

    test('guesses are limited per account and address, per address, and per account', async (t) => {
      const { app } = await buildTestApp(t, {
        ...storeEnv,
        ...authEnv('required', { RATE_LIMIT_LOGIN_PER_ACCOUNT_ADDRESS: '3', RATE_LIMIT_LOGIN_PER_ADDRESS: '5', RATE_LIMIT_LOGIN_PER_ACCOUNT: '8' }),
      });
      const ada = await signUp(app);
      // Per (account, address): the fourth try from one address is refused, even with the right password ...
      for (let index = 0; index < 3; index += 1) assert.equal((await loginFrom(app, '10.1.0.1', ada.email, 'guess')).statusCode, 401);
      assertTooMany(await loginFrom(app, '10.1.0.1', ada.email, 'secret-password'));
      // ... while the owner elsewhere gets in.
      assert.equal((await loginFrom(app, '10.1.0.2', ada.email, 'secret-password')).statusCode, 200);
      // Per address, whatever the account: five emails, the sixth is refused.
      for (const email of ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com', 'e@example.com']) {
        assert.equal((await loginFrom(app, '10.2.0.1', email, 'guess')).statusCode, 401);
      }
      assertTooMany(await loginFrom(app, '10.2.0.1', 'f@example.com', 'guess'));
      // Per account, from everywhere: 8 failures in all (3 above + 5 here) spend the account's budget.
      for (let index = 1; index <= 5; index += 1) assert.equal((await loginFrom(app, `10.3.0.${index}`, ada.email, 'guess')).statusCode, 401);
      assertTooMany(await loginFrom(app, '10.3.1.1', ada.email, 'secret-password'));
    });

    test('a refused address cannot spend the account budget: only attempts that pass the narrower limits count', async (t) => {
      const { app } = await buildTestApp(t, {
        ...storeEnv,
        ...authEnv('required', { RATE_LIMIT_LOGIN_PER_ACCOUNT_ADDRESS: '2', RATE_LIMIT_LOGIN_PER_ACCOUNT: '5' }),
      });
      const ada = await signUp(app);
      for (let index = 0; index < 20; index += 1) await loginFrom(app, '10.4.0.1', ada.email, 'guess');
      assert.equal((await loginFrom(app, '10.4.0.2', ada.email, 'secret-password')).statusCode, 200);
    });

    test('successful logins are taken back: the owner signing in again and again is never limited', async (t) => {
      const { app } = await buildTestApp(t, { ...storeEnv, ...authEnv('required', { RATE_LIMIT_LOGIN_PER_ACCOUNT_ADDRESS: '2', RATE_LIMIT_LOGIN_PER_ADDRESS: '2' }) });
      const ada = await signUp(app);
      for (let index = 0; index < 6; index += 1) assert.equal((await loginFrom(app, '10.5.0.1', ada.email, 'secret-password')).statusCode, 200);
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
  const { app } = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNUP_PER_MINUTE: '0' });
  for (let index = 0; index < 5; index += 1) assert.equal((await signUpFrom(app, '10.3.0.1')).statusCode, 200);
});

test('drop-in mode behaves as the original: a contract client signing up 150 users a minute from one address is never refused', async (t) => {
  const { app } = await buildTestApp(t, { AUTH_MODE: 'off' });
  const answers = [];
  for (let index = 0; index < 150; index += 1) answers.push((await signUpFrom(app, '10.6.0.1')).statusCode);
  assert.deepEqual(new Set(answers), new Set([200]));
});

test('the defaults leave ordinary traffic alone: no rate limit headers on answers under the limit', async (t) => {
  const { app } = await buildTestApp(t, authEnv('required'));
  const response = await signUpFrom(app, '10.4.0.1');
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['retry-after'], undefined);
  assert.equal(response.headers['x-ratelimit-limit'], undefined);
});

describe('the client address behind a proxy', () => {
  test('without TRUST_PROXY, a client-set X-Forwarded-For is ignored: it cannot dodge the per-address limit', async (t) => {
    const { app } = await buildTestApp(t, { RATE_LIMIT_SIGNUP_PER_MINUTE: '2' });
    for (let index = 0; index < 2; index += 1) {
      assert.equal((await signUpFrom(app, '10.7.0.1', { 'x-forwarded-for': `203.0.113.${index}` })).statusCode, 200);
    }
    assertTooMany(await signUpFrom(app, '10.7.0.1', { 'x-forwarded-for': '203.0.113.99' }));
  });

  test('with TRUST_PROXY naming the proxy, each client behind it has its own allowance', async (t) => {
    const { app } = await buildTestApp(t, { RATE_LIMIT_SIGNUP_PER_MINUTE: '2', TRUST_PROXY: '10.7.0.0/24' });
    const viaProxy = (client: string) => signUpFrom(app, '10.7.0.1', { 'x-forwarded-for': client });
    for (let index = 0; index < 2; index += 1) assert.equal((await viaProxy('203.0.113.1')).statusCode, 200);
    assertTooMany(await viaProxy('203.0.113.1'));
    assert.equal((await viaProxy('203.0.113.2')).statusCode, 200);
    // A request that does not come through the trusted proxy is counted by its own address.
    for (let index = 0; index < 2; index += 1) {
      assert.equal((await signUpFrom(app, '198.51.100.7', { 'x-forwarded-for': `203.0.113.${10 + index}` })).statusCode, 200);
    }
    assertTooMany(await signUpFrom(app, '198.51.100.7', { 'x-forwarded-for': '203.0.113.50' }));
  });

  test('IPv6 clients are counted per /64; IPv4-mapped addresses as IPv4', () => {
    assert.equal(clientAddressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(clientAddressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(clientAddressKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(clientAddressKey('::1'), '0:0:0:0::/64');
    assert.equal(clientAddressKey('192.0.2.7'), '192.0.2.7');
  });
});

test('while Redis is down the limits hold in each instance and no request fails; they move back to Redis when it returns', async (t) => {
  const server = await privateRedis();
  t.after(() => server.stop());
  const storage = await createTestStorage(t, { REDIS_URL: server.url, REDIS_TIMEOUT_MS: '300', RATE_LIMIT_SIGNUP_PER_MINUTE: '2' });
  const app = await startTestApp(t, storage);
  const inspect = new Redis(server.url, { keyPrefix: storage.prefix, lazyConnect: true, maxRetriesPerRequest: 1 });
  inspect.on('error', () => {});
  t.after(() => inspect.disconnect());

  assert.equal((await signUpFrom(app, '10.8.0.1')).statusCode, 200);
  await server.stop();
  // Redis is gone: counted in the process instead, never a 5xx.
  assert.equal((await signUpFrom(app, '10.8.0.2')).statusCode, 200);
  assert.equal((await signUpFrom(app, '10.8.0.2')).statusCode, 200);
  assertTooMany(await signUpFrom(app, '10.8.0.2'));
  await server.start();
  await inspect.connect();
  // Once the limiter has reconnected, counts land in Redis again; every answer meanwhile is a 200.
  let countedInRedis = false;
  for (let attempt = 0; attempt < 60 && !countedInRedis; attempt += 1) {
    const address = `10.8.1.${attempt}`;
    assert.equal((await signUpFrom(app, address)).statusCode, 200);
    countedInRedis = (await inspect.get(`rate-limit:signup-address:${address}`)) === '1';
    if (!countedInRedis) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(countedInRedis, 'the limits never moved back to Redis');
});
