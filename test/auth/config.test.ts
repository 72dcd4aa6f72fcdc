/** Starting with authentication on demands a strong AUTH_SECRET; bad values name their variable. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildTestApp } from '../helpers/build-test-app.js';

const base = { DATABASE_URL: 'sqlite::memory:' };

function assertConfigError(env: Record<string, string>, variable: string) {
  assert.throws(
    () => loadConfig({ ...base, ...env }),
    (error: unknown) => error instanceof ConfigError && error.message.includes(variable),
  );
}

test('AUTH_MODE=required or optional with a short or missing AUTH_SECRET refuses to start, naming AUTH_SECRET', async (t) => {
  await assert.rejects(
    buildTestApp(t, { AUTH_MODE: 'required', AUTH_SECRET: 'too-short' }),
    (error: unknown) => error instanceof ConfigError && error.message.includes('AUTH_SECRET'),
  );
  assertConfigError({ AUTH_MODE: 'required', AUTH_SECRET: 'x'.repeat(31) }, 'AUTH_SECRET');
  assertConfigError({ AUTH_MODE: 'optional', AUTH_SECRET: 'x'.repeat(31) }, 'AUTH_SECRET');
  assertConfigError({ AUTH_MODE: 'optional' }, 'AUTH_SECRET');
});

test('a secret of 32 bytes is enough, and AUTH_MODE=off needs none', () => {
  assert.equal(loadConfig({ ...base, AUTH_MODE: 'required', AUTH_SECRET: 'x'.repeat(32) }).authMode, 'required');
  const off = loadConfig(base);
  assert.equal(off.authMode, 'off');
  assert.equal(off.authTokenTtlSeconds, 3600);
  assert.deepEqual(off.corsOrigins, []);
});

test('other bad auth, rate limit and CORS settings name their variable', () => {
  assertConfigError({ AUTH_MODE: 'sometimes' }, 'AUTH_MODE');
  assertConfigError({ AUTH_MODE: 'required', AUTH_SECRET: 'x'.repeat(40), AUTH_TOKEN_TTL_SECONDS: '0' }, 'AUTH_TOKEN_TTL_SECONDS');
  assertConfigError({ RATE_LIMIT_TOKEN_PER_MINUTE: '5' }, 'RATE_LIMIT_LOGIN_PER_ADDRESS');
  assertConfigError({ RATE_LIMIT_LOGIN_PER_ACCOUNT: '-1' }, 'RATE_LIMIT_LOGIN_PER_ACCOUNT');
  assertConfigError({ RATE_LIMITS: 'sometimes' }, 'RATE_LIMITS');
  assertConfigError({ TRUST_PROXY: 'the-balancer' }, 'TRUST_PROXY');
  assertConfigError({ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY');
  assertConfigError({ PASSWORD_MIN_LENGTH: '0' }, 'PASSWORD_MIN_LENGTH');
  assertConfigError({ RATE_LIMIT_SIGNUP_PER_MINUTE: 'many' }, 'RATE_LIMIT_SIGNUP_PER_MINUTE');
  assertConfigError({ RATE_LIMIT_MESSAGES_PER_MINUTE: '1.5' }, 'RATE_LIMIT_MESSAGES_PER_MINUTE');
  assertConfigError({ CORS_ORIGINS: 'example.com' }, 'CORS_ORIGINS');
});

test('abuse limits are off in drop-in mode and on with authentication, unless configured either way', () => {
  const secret = { AUTH_SECRET: 'x'.repeat(32) };
  const off = loadConfig(base).rateLimits;
  assert.ok(Object.values(off).every((max) => max === 0), JSON.stringify(off));
  const on = loadConfig({ ...base, AUTH_MODE: 'required', ...secret }).rateLimits;
  assert.deepEqual(on, { loginPerAddress: 30, loginPerAccountAndAddress: 10, loginPerAccount: 200, signupPerMinute: 100, messagesPerMinute: 600 });
  assert.deepEqual(loadConfig({ ...base, RATE_LIMITS: 'on' }).rateLimits, on);
  assert.ok(Object.values(loadConfig({ ...base, AUTH_MODE: 'optional', ...secret, RATE_LIMITS: 'off' }).rateLimits).every((max) => max === 0));
  // One limit set explicitly in drop-in mode applies alone.
  const one = loadConfig({ ...base, RATE_LIMIT_SIGNUP_PER_MINUTE: '5' }).rateLimits;
  assert.deepEqual(one, { loginPerAddress: 0, loginPerAccountAndAddress: 0, loginPerAccount: 0, signupPerMinute: 5, messagesPerMinute: 0 });
});

test('TRUST_PROXY takes false, true, or proxy addresses and CIDR ranges; not a hop count, which would trust any client', () => {
  assert.equal(loadConfig(base).trustProxy, false);
  assert.equal(loadConfig({ ...base, TRUST_PROXY: 'false' }).trustProxy, false);
  assert.equal(loadConfig({ ...base, TRUST_PROXY: 'true' }).trustProxy, true);
  assertConfigError({ TRUST_PROXY: '2' }, 'TRUST_PROXY');
  assert.deepEqual(loadConfig({ ...base, TRUST_PROXY: '10.0.0.0/8, 192.168.1.1,::1' }).trustProxy, ['10.0.0.0/8', '192.168.1.1', '::1']);
});
