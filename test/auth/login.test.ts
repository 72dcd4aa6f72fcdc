/**
 * POST /token and the tokens it issues, in AUTH_MODE=optional and =required: right and wrong
 * passwords, unknown emails (same answer), and every kind of bad token is a 401, never a 500.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { buildTestApp } from '../helpers/build-test-app.js';
import { assertNotAuthenticated, AUTHED_MODES, authEnv, bearer, login, SECRET, signUp } from './auth-support.js';

function tokenRequest(app: FastifyInstance, payload: Record<string, string>, as: 'form' | 'json' = 'json') {
  return as === 'form'
    ? app.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(payload).toString(),
      })
    : app.inject({ method: 'POST', url: '/token', payload });
}

/** A protected route that answers 200 for any valid caller. */
function whoCanList(app: FastifyInstance, headers: Record<string, string>) {
  return app.inject({ method: 'GET', url: '/msg/list/', headers });
}

function signed(payload: { sub?: string }, options: { secret?: string; expiresIn?: number } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(now);
  return jwt.setExpirationTime(now + (options.expiresIn ?? 3600)).sign(new TextEncoder().encode(options.secret ?? SECRET));
}

for (const mode of AUTHED_MODES) {
  describe(`AUTH_MODE=${mode}: logging in`, () => {
    test('the right password, as a form or as JSON, gives a bearer token that identifies the user', async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const user = await signUp(app, 'correct horse');
      const formToken = await login(app, user.email, 'correct horse');
      const json = await tokenRequest(app, { email: user.email, password: 'correct horse' });
      assert.equal(json.statusCode, 200, json.body);
      const body = json.json<{ access_token: string; token_type: string }>();
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'token_type']);
      assert.equal(body.token_type, 'bearer');
      for (const token of [formToken, body.access_token]) {
        const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
        assert.equal(header.alg, 'HS256');
        assert.equal(payload.sub, String(user.id));
        assert.equal(payload.exp - payload.iat, 3600);
        assert.equal((await whoCanList(app, bearer(token))).statusCode, 200);
      }
    });

    test('a wrong password and an unknown email get the same 401 body', async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const user = await signUp(app, 'correct horse');
      const answers = [
        await tokenRequest(app, { email: user.email, password: 'wrong' }),
        await tokenRequest(app, { email: 'nobody@example.com', password: 'correct horse' }),
        await tokenRequest(app, { username: user.email, password: 'wrong' }, 'form'),
        await tokenRequest(app, { username: 'nobody@example.com', password: 'wrong' }, 'form'),
      ];
      for (const response of answers) {
        assert.equal(response.statusCode, 401);
        assert.equal(response.body, '{"detail":"Incorrect email or password"}');
        assert.equal(response.headers['www-authenticate'], 'Bearer');
      }
    });

    test('missing credentials are a 422 located in the body, as FastAPI reports them', async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const form = await tokenRequest(app, { username: 'ada@example.com' }, 'form');
      assert.equal(form.statusCode, 422);
      assert.deepEqual(form.json(), { detail: [{ loc: ['body', 'password'], msg: 'field required', type: 'value_error.missing' }] });
      const json = await tokenRequest(app, { password: 'x' });
      assert.equal(json.statusCode, 422);
      assert.deepEqual(json.json(), { detail: [{ loc: ['body', 'email'], msg: 'field required', type: 'value_error.missing' }] });
    });

    test('a tampered, foreign, malformed or unsigned token is a 401, never a 500', async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const ada = await signUp(app);
      const bob = await signUp(app);
      const token = await login(app, ada.email);
      const [header, , signature] = token.split('.');
      // Ada's token rewritten to name Bob, keeping Ada's signature.
      const forgedPayload = Buffer.from(JSON.stringify({ sub: String(bob.id), exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
      const unsignedHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const badTokens = [
        `${header}.${forgedPayload}.${signature}`,
        `${unsignedHeader}.${forgedPayload}.`,
        await signed({ sub: String(ada.id) }, { secret: 'another-secret-that-is-also-32-bytes-long!' }),
        await signed({ sub: 'ada' }),
        await signed({}),
        'not-a-jwt',
        'a.b.c',
        '',
      ];
      for (const bad of badTokens) {
        assertNotAuthenticated(await whoCanList(app, bearer(bad)));
      }
    });

    test('an expired token is a 401', async (t) => {
      // Expiry counts whole seconds from the second of issue: a TTL of 2 leaves the token at least 1 s of life.
      const { app } = await buildTestApp(t, authEnv(mode, { AUTH_TOKEN_TTL_SECONDS: '2' }));
      const user = await signUp(app);
      const token = await login(app, user.email);
      assert.equal((await whoCanList(app, bearer(token))).statusCode, 200);
      await sleep(3100);
      assertNotAuthenticated(await whoCanList(app, bearer(token)));
    });

    test('a validly signed token of an unknown or deleted user is a 401', async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const user = await signUp(app);
      const token = await login(app, user.email);
      assertNotAuthenticated(await whoCanList(app, bearer(await signed({ sub: '999999' }))));
      await app.db.deleteFrom('users').where('id', '=', user.id).execute();
      assertNotAuthenticated(await whoCanList(app, bearer(token)));
    });

    test('stored password hashes are argon2id strings', async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const user = await signUp(app, 'correct horse');
      const row = await app.db.selectFrom('users').select('hashed_password').where('id', '=', user.id).executeTakeFirstOrThrow();
      assert.match(row.hashed_password, /^\$argon2id\$/);
      assert.ok(!row.hashed_password.includes('correct horse'));
    });
  });
}

describe('AUTH_MODE=off', () => {
  test('there is no /token, tokens are ignored, and hashes are still argon2id', async (t) => {
    const { app } = await buildTestApp(t, authEnv('off'));
    const user = await signUp(app);
    const response = await tokenRequest(app, { email: user.email, password: 'secret-password' });
    assert.equal(response.statusCode, 404);
    assert.equal((await whoCanList(app, bearer('garbage'))).statusCode, 200);
    const row = await app.db.selectFrom('users').select('hashed_password').where('id', '=', user.id).executeTakeFirstOrThrow();
    assert.match(row.hashed_password, /^\$argon2id\$/);
  });
});
