/**
 * Accounts a hostile user cannot abuse: one account per address whatever its letter case (so no one
 * can pose as a moderator), passwords with a length, deactivated users shut out at once, tokens
 * bound to this service, and authenticated answers never cached.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { buildTestApp, createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { SQLITE_PASS_ONLY } from '../helpers/services.js';
import { authEnv, bearer, login, SECRET } from './auth-support.js';

function signUp(app: FastifyInstance, email: string, password = 'secret-password') {
  return app.inject({ method: 'POST', url: '/users/', payload: { email, password } });
}

function tokenFor(app: FastifyInstance, payload: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: '/token', payload });
}

describe('emails are unique regardless of letter case', () => {
  test('a second account in another letter case is the contract 400; the address is stored as sent; signing in matches any case', async (t) => {
    const { app } = await buildTestApp(t, authEnv('optional'));
    const first = await signUp(app, 'Ada@Example.com');
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json<{ email: string }>().email, 'Ada@Example.com');
    for (const variant of ['ada@example.com', 'ADA@EXAMPLE.COM', 'aDa@example.COM']) {
      const again = await signUp(app, variant, 'another-password');
      assert.equal(again.statusCode, 400, variant);
      assert.equal(again.body, '{"detail":"Email already registered"}');
    }
    assert.equal((await app.db.selectFrom('users').select('id').execute()).length, 1);
    assert.equal((await tokenFor(app, { email: 'ADA@example.com', password: 'secret-password' })).statusCode, 200);
  });

  test('signing up MOD@example.com does not make a second moderator; the moderator passes in any case', async (t) => {
    const { app } = await buildTestApp(t, authEnv('required', { MODERATOR_EMAILS: 'Mod@Example.com' }));
    assert.equal((await signUp(app, 'mod@example.com')).statusCode, 200);
    const impostor = await signUp(app, 'MOD@example.com');
    assert.equal(impostor.statusCode, 400);
    assert.equal(impostor.body, '{"detail":"Email already registered"}');
    const moderator = bearer(await login(app, 'MOD@EXAMPLE.COM'));
    assert.equal((await app.inject({ method: 'GET', url: '/spam/senders', headers: moderator })).statusCode, 200);
  });

  test('ten sign-ups of one address in ten letter cases at once make exactly one account', async (t) => {
    const { app } = await buildTestApp(t);
    const variants = ['race@example.com', 'Race@example.com', 'RACE@example.com', 'rAce@example.com', 'raCe@example.com',
      'racE@example.com', 'race@Example.com', 'race@EXAMPLE.com', 'race@example.COM', 'RACE@EXAMPLE.COM'];
    const answers = await Promise.all(variants.map((email) => signUp(app, email)));
    assert.deepEqual(answers.map((answer) => answer.statusCode).sort(), [200, ...Array<number>(9).fill(400)]);
    assert.equal((await app.db.selectFrom('users').select('id').execute()).length, 1);
  });

  test('letter case beyond ASCII is folded too: ÉLODIE@example.com is élodie@example.com', async (t) => {
    const { app } = await buildTestApp(t);
    assert.equal((await signUp(app, 'élodie@example.com')).statusCode, 200);
    assert.equal((await signUp(app, 'ÉLODIE@example.com')).statusCode, 400);
    // The same letter written as e + combining accent (NFD) is the same address.
    assert.equal((await signUp(app, 'e\u0301lodie@example.com')).statusCode, 400);
  });
});

describe('passwords have a length', () => {
  test('an empty, short or overlong password is a 422 at ["body","password"], and nothing is stored', async (t) => {
    const { app } = await buildTestApp(t);
    for (const [password, problem] of [
      ['', '{"loc":["body","password"],"msg":"ensure this value has at least 8 characters","type":"value_error.any_str.min_length","ctx":{"limit_value":8}}'],
      ['1234567', '{"loc":["body","password"],"msg":"ensure this value has at least 8 characters","type":"value_error.any_str.min_length","ctx":{"limit_value":8}}'],
      ['x'.repeat(257), '{"loc":["body","password"],"msg":"ensure this value has at most 256 characters","type":"value_error.any_str.max_length","ctx":{"limit_value":256}}'],
    ] as const) {
      const response = await signUp(app, `${password.length}@example.com`, password);
      assert.equal(response.statusCode, 422, `${password.length} characters`);
      assert.equal(response.body, `{"detail":[${problem}]}`);
    }
    assert.equal((await app.db.selectFrom('users').select('id').execute()).length, 0);
    assert.equal((await signUp(app, 'eight@example.com', '12345678')).statusCode, 200);
    assert.equal((await signUp(app, 'long@example.com', 'x'.repeat(256))).statusCode, 200);
  });

  test('PASSWORD_MIN_LENGTH raises the minimum', async (t) => {
    const { app } = await buildTestApp(t, { PASSWORD_MIN_LENGTH: '12' });
    assert.equal((await signUp(app, 'a@example.com', 'x'.repeat(11))).statusCode, 422);
    assert.equal((await signUp(app, 'b@example.com', 'x'.repeat(12))).statusCode, 200);
  });

  test('sign-in bounds its fields before hashing anything: 422, never a slow hash', async (t) => {
    const { app } = await buildTestApp(t, authEnv('required'));
    const longPassword = await tokenFor(app, { email: 'a@example.com', password: 'x'.repeat(100_000) });
    assert.equal(longPassword.statusCode, 422);
    assert.deepEqual(longPassword.json<{ detail: { loc: unknown[] }[] }>().detail.map((problem) => problem.loc), [['body', 'password']]);
    const longEmail = await tokenFor(app, { email: `${'x'.repeat(300)}@example.com`, password: 'whatever' });
    assert.equal(longEmail.statusCode, 422);
    assert.deepEqual(longEmail.json<{ detail: { loc: unknown[] }[] }>().detail.map((problem) => problem.loc), [['body', 'email']]);
    const form = await app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ username: 'x'.repeat(300), password: 'p' }).toString(),
    });
    assert.equal(form.statusCode, 422);
  });
});

describe('deactivated users', () => {
  test('cannot sign in, and their tokens stop working at once', async (t) => {
    const { app } = await buildTestApp(t, authEnv('required'));
    const response = await signUp(app, 'leaving@example.com');
    const { id } = response.json<{ id: number }>();
    const headers = bearer(await login(app, 'leaving@example.com'));
    assert.equal((await app.inject({ method: 'GET', url: '/msg/list/', headers })).statusCode, 200);

    await app.db.updateTable('users').set({ is_active: 0 }).where('id', '=', id).execute();

    const refused = await app.inject({ method: 'GET', url: '/msg/list/', headers });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.body, '{"detail":"Not authenticated"}');
    const signIn = await tokenFor(app, { email: 'leaving@example.com', password: 'secret-password' });
    assert.equal(signIn.statusCode, 401);
    assert.equal(signIn.body, '{"detail":"Incorrect email or password"}');
  });

  test('`npm run users:deactivate` shuts an account out from the next request; `users:activate` lets it back in', { skip: SQLITE_PASS_ONLY }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'inbox-deactivate-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const databaseUrl = `sqlite:${join(dir, 'inbox.db')}`;
    const { app } = await buildTestApp(t, authEnv('required', { DATABASE_URL: databaseUrl }));
    await signUp(app, 'Leaving@Example.com');
    const headers = bearer(await login(app, 'leaving@example.com'));
    const run = (action: string, email: string) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/set-user-active.ts', action, email], {
        env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' },
      });

    const { stdout } = await run('deactivate', 'LEAVING@example.com');
    assert.match(stdout, /User 1 <LEAVING@example.com> is deactivated/);
    assert.equal((await app.inject({ method: 'GET', url: '/msg/list/', headers })).statusCode, 401);
    await run('activate', 'leaving@example.com');
    assert.equal((await app.inject({ method: 'GET', url: '/msg/list/', headers })).statusCode, 200);
    await assert.rejects(run('deactivate', 'nobody@example.com'), /No user has the email nobody@example.com/);
  });
});

describe('tokens are bound to this service', () => {
  async function signed(claims: { iss?: string; aud?: string }, subject: string) {
    let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(subject).setIssuedAt().setExpirationTime('1h');
    if (claims.iss) jwt = jwt.setIssuer(claims.iss);
    if (claims.aud) jwt = jwt.setAudience(claims.aud);
    return jwt.sign(new TextEncoder().encode(SECRET));
  }

  test('a token signed with the right key but another issuer or audience, or none, is a 401', async (t) => {
    const { app } = await buildTestApp(t, authEnv('required'));
    const id = String((await signUp(app, 'ada@example.com')).json<{ id: number }>().id);
    const get = (token: string) => app.inject({ method: 'GET', url: '/msg/list/', headers: bearer(token) });
    assert.equal((await get(await signed({ iss: 'inbox-api', aud: 'inbox-api' }, id))).statusCode, 200);
    for (const claims of [{}, { iss: 'inbox-api' }, { aud: 'inbox-api' }, { iss: 'someone-else', aud: 'inbox-api' }, { iss: 'inbox-api', aud: 'another-api' }]) {
      const response = await get(await signed(claims, id));
      assert.equal(response.statusCode, 401, JSON.stringify(claims));
    }
  });

  test('a token issued by a deployment with another audience is refused here, though both share the key', async (t) => {
    const storage = await createTestStorage(t, authEnv('required'));
    const ours = await startTestApp(t, storage);
    const theirs = await startTestApp(t, { ...storage, env: { ...storage.env, AUTH_TOKEN_AUDIENCE: 'staging' } });
    // The same user id 1 on both (own in-memory databases, or one shared schema): only the audience differs.
    await signUp(ours, 'ada@example.com');
    await signUp(theirs, 'ada@example.com');
    assert.equal((await ours.inject({ method: 'GET', url: '/msg/list/', headers: bearer(await login(ours, 'ada@example.com')) })).statusCode, 200);
    const foreign = await login(theirs, 'ada@example.com');
    assert.equal((await ours.inject({ method: 'GET', url: '/msg/list/', headers: bearer(foreign) })).statusCode, 401);
  });
});

test('answers to authenticated requests, and tokens, say Cache-Control: no-store; anonymous ones do not', async (t) => {
  const { app } = await buildTestApp(t, authEnv('optional'));
  await signUp(app, 'ada@example.com');
  const token = await tokenFor(app, { email: 'ada@example.com', password: 'secret-password' });
  assert.equal(token.headers['cache-control'], 'no-store');
  const headers = bearer(token.json<{ access_token: string }>().access_token);
  for (const url of ['/msg/list/', '/users/', '/users/1', '/items/', '/users/1/messages']) {
    const response = await app.inject({ method: 'GET', url, headers });
    assert.equal(response.statusCode, 200, url);
    assert.equal(response.headers['cache-control'], 'no-store', url);
  }
  const refused = await app.inject({ method: 'GET', url: '/users/2/messages', headers });
  assert.equal(refused.statusCode, 403);
  assert.equal(refused.headers['cache-control'], 'no-store');
  const anonymous = await app.inject({ method: 'GET', url: '/users/' });
  assert.notEqual(anonymous.headers['cache-control'], 'no-store');
});
