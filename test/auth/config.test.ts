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
  assertConfigError({ RATE_LIMIT_TOKEN_PER_MINUTE: '-1' }, 'RATE_LIMIT_TOKEN_PER_MINUTE');
  assertConfigError({ RATE_LIMIT_SIGNUP_PER_MINUTE: 'many' }, 'RATE_LIMIT_SIGNUP_PER_MINUTE');
  assertConfigError({ RATE_LIMIT_MESSAGES_PER_MINUTE: '1.5' }, 'RATE_LIMIT_MESSAGES_PER_MINUTE');
  assertConfigError({ CORS_ORIGINS: 'example.com' }, 'CORS_ORIGINS');
});
