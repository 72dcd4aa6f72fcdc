import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verify } from '@node-rs/argon2';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser } from '../helpers/factories.js';

const EMAIL_ALREADY_REGISTERED = '{"detail":"Email already registered"}';

function signUp(app: FastifyInstance, payload: unknown) {
  return app.inject({ method: 'POST', url: '/users/', payload: payload as Record<string, unknown> });
}

async function storedUsers(app: FastifyInstance) {
  return app.db.selectFrom('users').selectAll().orderBy('id').execute();
}

test('a sign-up answers the new user with exactly email, id, is_active and items, in that order', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await signUp(app, { email: 'ada@example.com', password: 'correct horse' });
  assert.equal(response.statusCode, 200, response.body);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  const { id } = response.json<{ id: number }>();
  assert.ok(Number.isInteger(id) && id > 0, `id should be a positive integer, got ${id}`);
  assert.equal(response.body, `{"email":"ada@example.com","id":${id},"is_active":true,"items":[]}`);

  const rows = await storedUsers(app);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.id, id);
  assert.equal(rows[0]?.email, 'ada@example.com');
  assert.equal(rows[0]?.is_active, 1);
});

test('consecutive sign-ups get increasing ids', async (t) => {
  const { app } = await buildTestApp(t);
  const first = await createUser(app, 'first@example.com');
  const second = await createUser(app, 'second@example.com');
  assert.ok(second.id > first.id);
});

test('signing up with an email that is already registered answers 400 and stores nothing new', async (t) => {
  const { app } = await buildTestApp(t);
  const original = await createUser(app, 'taken@example.com', 'first password');
  const response = await signUp(app, { email: 'taken@example.com', password: 'another password' });
  assert.equal(response.statusCode, 400);
  assert.equal(response.body, EMAIL_ALREADY_REGISTERED);

  const rows = await storedUsers(app);
  assert.deepEqual(
    rows.map((row) => ({ id: row.id, email: row.email })),
    [{ id: original.id, email: 'taken@example.com' }],
  );
  assert.equal(await verify(rows[0]?.hashed_password ?? '', 'first password'), true, 'the original password still applies');
});

test('when ten sign-ups of one email race, exactly one succeeds and the other nine get 400, never 500', async (t) => {
  const { app } = await buildTestApp(t);
  const responses = await Promise.all(
    Array.from({ length: 10 }, (_, index) => signUp(app, { email: 'race@example.com', password: `password ${index}` })),
  );
  const statuses = responses.map((response) => response.statusCode).sort();
  assert.deepEqual(statuses, [200, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
  for (const response of responses.filter((each) => each.statusCode === 400)) {
    assert.equal(response.body, EMAIL_ALREADY_REGISTERED);
  }
  const winner = responses.find((response) => response.statusCode === 200);
  const winnerId = winner?.json<{ id: number }>().id;
  assert.equal(winner?.body, `{"email":"race@example.com","id":${winnerId},"is_active":true,"items":[]}`);

  const rows = await storedUsers(app);
  assert.deepEqual(
    rows.map((row) => ({ id: row.id, email: row.email })),
    [{ id: winnerId, email: 'race@example.com' }],
  );
});

test('the stored password is an argon2id hash of the password, and neither it nor the password appears in any response', async (t) => {
  const { app } = await buildTestApp(t);
  const password = 'Tr0ub4dor&3-unique-secret';
  const created = await signUp(app, { email: 'hash@example.com', password });
  assert.equal(created.statusCode, 200, created.body);
  const { id } = created.json<{ id: number }>();

  const row = await app.db.selectFrom('users').select('hashed_password').where('id', '=', id).executeTakeFirstOrThrow();
  assert.ok(row.hashed_password.startsWith('$argon2id$'), `expected an $argon2id$ PHC string, got ${row.hashed_password}`);
  assert.notEqual(row.hashed_password, password);
  assert.equal(await verify(row.hashed_password, password), true);
  assert.equal(await verify(row.hashed_password, 'wrong password'), false);

  await app.inject({ method: 'POST', url: `/users/${id}/items/`, payload: { title: 'Thing' } });
  const bodies = [
    created.body,
    (await app.inject({ method: 'GET', url: '/users/' })).body,
    (await app.inject({ method: 'GET', url: `/users/${id}` })).body,
    (await app.inject({ method: 'GET', url: '/items/' })).body,
    (await signUp(app, { email: 'hash@example.com', password })).body,
  ];
  const hashBody = row.hashed_password.split('$').at(-1) ?? '';
  const hashSalt = row.hashed_password.split('$').at(-2) ?? '';
  for (const body of bodies) {
    assert.ok(!body.includes(password), `password leaked in ${body}`);
    assert.ok(!body.includes('argon2'), `hash leaked in ${body}`);
    assert.ok(!body.includes(hashBody) && !body.includes(hashSalt), `hash leaked in ${body}`);
    assert.ok(!/password/i.test(body), `a password field appears in ${body}`);
  }
});

const INVALID_EMAIL =
  '{"detail":[{"loc":["body","email"],"msg":"value is not a valid email address","type":"value_error.email"}]}';

for (const email of [
  'not-an-email',
  'two@@example.com',
  'a@b@example.com',
  'with space@example.com',
  'tab\t@example.com',
  '@example.com',
  'user@',
  '',
  ' ',
]) {
  test(`an email of ${JSON.stringify(email)} is refused with 422 at ["body","email"] and no user is stored`, async (t) => {
    const { app } = await buildTestApp(t);
    const response = await signUp(app, { email, password: 'secret-password' });
    assert.equal(response.statusCode, 422);
    assert.equal(response.body, INVALID_EMAIL);
    assert.deepEqual(await storedUsers(app), []);
  });
}

test('an email of 255 characters is refused with 422 at ["body","email"] and no user is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const email = `${'a'.repeat(243)}@example.com`;
  assert.equal(email.length, 255);
  const response = await signUp(app, { email, password: 'secret-password' });
  assert.equal(response.statusCode, 422);
  assert.deepEqual(response.json(), {
    detail: [
      {
        loc: ['body', 'email'],
        msg: 'ensure this value has at most 254 characters',
        type: 'value_error.any_str.max_length',
        ctx: { limit_value: 254 },
      },
    ],
  });
  assert.deepEqual(await storedUsers(app), []);
});

test('a very long email (10 000 characters) is a 422 at ["body","email"], not a crash', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await signUp(app, { email: `${'x'.repeat(10_000)}@example.com`, password: 'secret-password' });
  assert.equal(response.statusCode, 422);
  const detail = response.json<{ detail: { loc: unknown[] }[] }>().detail;
  assert.deepEqual(
    detail.map((issue) => issue.loc),
    [['body', 'email']],
  );
  assert.deepEqual(await storedUsers(app), []);
});

test('an email of exactly 254 characters is accepted', async (t) => {
  const { app } = await buildTestApp(t);
  const email = `${'a'.repeat(242)}@example.com`;
  assert.equal(email.length, 254);
  const response = await signUp(app, { email, password: 'secret-password' });
  assert.equal(response.statusCode, 200, response.body);
  const { id } = response.json<{ id: number }>();
  assert.equal(response.body, `{"email":"${email}","id":${id},"is_active":true,"items":[]}`);
  assert.equal((await storedUsers(app)).length, 1);
});

test('a sign-up without email and password reports both missing fields together', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await signUp(app, {});
  assert.equal(response.statusCode, 422);
  assert.equal(
    response.body,
    '{"detail":[{"loc":["body","email"],"msg":"field required","type":"value_error.missing"},' +
      '{"loc":["body","password"],"msg":"field required","type":"value_error.missing"}]}',
  );
  assert.deepEqual(await storedUsers(app), []);
});

test('a sign-up without a password is refused with 422 at ["body","password"] and no user is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await signUp(app, { email: 'nopass@example.com' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, '{"detail":[{"loc":["body","password"],"msg":"field required","type":"value_error.missing"}]}');
  assert.deepEqual(await storedUsers(app), []);
});

test('a sign-up without an email is refused with 422 at ["body","email"] and no user is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await signUp(app, { password: 'secret-password' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, '{"detail":[{"loc":["body","email"],"msg":"field required","type":"value_error.missing"}]}');
  assert.deepEqual(await storedUsers(app), []);
});

test('a null password is refused as "none is not an allowed value"', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await signUp(app, { email: 'null@example.com', password: null });
  assert.equal(response.statusCode, 422);
  assert.equal(
    response.body,
    '{"detail":[{"loc":["body","password"],"msg":"none is not an allowed value","type":"type_error.none.not_allowed"}]}',
  );
  assert.deepEqual(await storedUsers(app), []);
});

test('extra fields in a sign-up are ignored and never echoed', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await signUp(app, { email: 'extra@example.com', password: 'secret-password', is_active: false, id: 999, admin: true });
  assert.equal(response.statusCode, 200, response.body);
  const { id } = response.json<{ id: number }>();
  assert.notEqual(id, 999);
  assert.equal(response.body, `{"email":"extra@example.com","id":${id},"is_active":true,"items":[]}`);
  const rows = await storedUsers(app);
  assert.equal(rows[0]?.is_active, 1);
});
