/**
 * The contract's msg/type pairs, each provoked where clients meet it, and several problems of
 * one request reported together in one 422.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser, sendMessage } from '../helpers/factories.js';

type Loc = (string | number)[];

const MISSING = { msg: 'field required', type: 'value_error.missing' };
const NOT_INTEGER = { msg: 'value is not a valid integer', type: 'type_error.integer' };
const NOT_STRING = { msg: 'str type expected', type: 'type_error.str' };
const NOT_LIST = { msg: 'value is not a valid list', type: 'type_error.list' };
const NOT_DICT = { msg: 'value is not a valid dict', type: 'type_error.dict' };
const NONE = { msg: 'none is not an allowed value', type: 'type_error.none.not_allowed' };
const TOO_BIG = {
  msg: 'ensure this value is less than or equal to 9007199254740991',
  type: 'value_error.number.not_le',
  ctx: { limit_value: 9007199254740991 },
};

function detail(...issues: [Loc, Record<string, unknown>][]): string {
  return JSON.stringify({ detail: issues.map(([loc, problem]) => ({ loc, ...problem })) });
}

interface Case {
  name: string;
  method: HTTPMethods;
  url: (ids: { user: number }) => string;
  payload?: unknown;
  expected: string;
}

const validUser = { email: 'valid@example.com', password: 'secret-password' };
const validMessage = (user: number) => ({ from_userid: user, to_userid: user, subject: 'S', message: 'M' });

const cases: Case[] = [
  // value is not a valid integer
  { name: 'a word as user_id in the path', method: 'GET', url: () => '/users/abc', expected: detail([['path', 'user_id'], NOT_INTEGER]) },
  { name: 'a fraction as skip', method: 'GET', url: () => '/msg/list/?skip=0.5', expected: detail([['query', 'skip'], NOT_INTEGER]) },
  { name: 'a word as limit', method: 'GET', url: () => '/items/?limit=all', expected: detail([['query', 'limit'], NOT_INTEGER]) },
  { name: 'a word as from_userid', method: 'POST', url: () => '/msg/create/', payload: { ...validMessage(1), from_userid: 'me' }, expected: detail([['body', 'from_userid'], NOT_INTEGER]) },
  { name: 'a list as to_userid', method: 'POST', url: () => '/msg/create/', payload: { ...validMessage(1), to_userid: [1] }, expected: detail([['body', 'to_userid'], NOT_INTEGER]) },
  { name: 'a fraction in message_id_list', method: 'PUT', url: () => '/msg/list/', payload: { message_id_list: [1, 2.25] }, expected: detail([['body', 'message_id_list', 1], NOT_INTEGER]) },
  { name: 'an object in message_id_list', method: 'PUT', url: () => '/msg/list/', payload: { message_id_list: [{ id: 1 }] }, expected: detail([['body', 'message_id_list', 0], NOT_INTEGER]) },
  { name: 'a non-numeric string in message_id_list', method: 'PUT', url: () => '/msg/list/', payload: { message_id_list: ['7a'] }, expected: detail([['body', 'message_id_list', 0], NOT_INTEGER]) },
  // str type expected
  { name: 'a list as email', method: 'POST', url: () => '/users/', payload: { ...validUser, email: ['a@b.c'] }, expected: detail([['body', 'email'], NOT_STRING]) },
  { name: 'an object as password', method: 'POST', url: () => '/users/', payload: { ...validUser, password: { secret: 1 } }, expected: detail([['body', 'password'], NOT_STRING]) },
  { name: 'an object as title', method: 'POST', url: ({ user }) => `/users/${user}/items/`, payload: { title: {} }, expected: detail([['body', 'title'], NOT_STRING]) },
  { name: 'a list as subject', method: 'POST', url: () => '/msg/create/', payload: { ...validMessage(1), subject: ['S'] }, expected: detail([['body', 'subject'], NOT_STRING]) },
  // value is not a valid list
  { name: 'a number as message_id_list', method: 'PUT', url: () => '/msg/list/', payload: { message_id_list: 5 }, expected: detail([['body', 'message_id_list'], NOT_LIST]) },
  { name: 'a comma string as message_id_list', method: 'PUT', url: () => '/msg/list/', payload: { message_id_list: '1,2' }, expected: detail([['body', 'message_id_list'], NOT_LIST]) },
  { name: 'an object as message_id_list', method: 'PUT', url: () => '/msg/list/', payload: { message_id_list: { a: 1 } }, expected: detail([['body', 'message_id_list'], NOT_LIST]) },
  // value is not a valid dict
  { name: 'an array as the body', method: 'POST', url: () => '/msg/create/', payload: [validMessage(1)], expected: detail([['body'], NOT_DICT]) },
  // none is not an allowed value
  { name: 'null as email', method: 'POST', url: () => '/users/', payload: { ...validUser, email: null }, expected: detail([['body', 'email'], NONE]) },
  { name: 'null as title', method: 'POST', url: ({ user }) => `/users/${user}/items/`, payload: { title: null }, expected: detail([['body', 'title'], NONE]) },
  { name: 'null as from_userid', method: 'POST', url: () => '/msg/create/', payload: { ...validMessage(1), from_userid: null }, expected: detail([['body', 'from_userid'], NONE]) },
  { name: 'null as message', method: 'POST', url: () => '/msg/create/', payload: { ...validMessage(1), message: null }, expected: detail([['body', 'message'], NONE]) },
  { name: 'null as message_id_list', method: 'PUT', url: () => '/msg/list/', payload: { message_id_list: null }, expected: detail([['body', 'message_id_list'], NONE]) },
  { name: 'null inside message_id_list', method: 'PUT', url: () => '/msg/list/', payload: { message_id_list: [null] }, expected: detail([['body', 'message_id_list', 0], NONE]) },
  // field required
  { name: 'no subject', method: 'POST', url: () => '/msg/create/', payload: { from_userid: 1, to_userid: 1, message: 'M' }, expected: detail([['body', 'subject'], MISSING]) },
  // beyond 2^53 - 1
  { name: '2^53 as user_id in the path', method: 'GET', url: () => '/users/9007199254740992', expected: detail([['path', 'user_id'], TOO_BIG]) },
  { name: 'a 30-digit user_id in the item path', method: 'POST', url: () => `/users/${'9'.repeat(30)}/items/`, payload: { title: 'x' }, expected: detail([['path', 'user_id'], TOO_BIG]) },
  { name: '2^64 as skip', method: 'GET', url: () => '/items/?skip=18446744073709551616', expected: detail([['query', 'skip'], TOO_BIG]) },
  { name: '2^53 + 1 as limit', method: 'GET', url: () => '/msg/list/?limit=9007199254740993', expected: detail([['query', 'limit'], TOO_BIG]) },
  { name: '2^53 + 1 as from_userid', method: 'POST', url: () => '/msg/create/', payload: '{"from_userid":9007199254740993,"to_userid":1,"subject":"S","message":"M"}', expected: detail([['body', 'from_userid'], TOO_BIG]) },
  { name: '1e20 as to_userid', method: 'POST', url: () => '/msg/create/', payload: '{"from_userid":1,"to_userid":1e20,"subject":"S","message":"M"}', expected: detail([['body', 'to_userid'], TOO_BIG]) },
  { name: 'a 25-digit numeric string in message_id_list', method: 'PUT', url: () => '/msg/list/', payload: { message_id_list: ['1234567890123456789012345'] }, expected: detail([['body', 'message_id_list', 0], TOO_BIG]) },
  { name: '2^53 in message_id_list', method: 'PUT', url: () => '/msg/list/', payload: '{"message_id_list":[9007199254740992]}', expected: detail([['body', 'message_id_list', 0], TOO_BIG]) },
  { name: '1e400 (infinity) in message_id_list', method: 'PUT', url: () => '/msg/list/', payload: '{"message_id_list":[1e400]}', expected: detail([['body', 'message_id_list', 0], NOT_INTEGER]) },
];

async function storedCounts(app: FastifyInstance) {
  const users = await app.db.selectFrom('users').select('id').execute();
  const items = await app.db.selectFrom('items').select('id').execute();
  const messages = await app.db.selectFrom('messages').selectAll().execute();
  return { users, items, messages };
}

for (const { name, method, url, payload, expected } of cases) {
  test(`${name} is a 422 with exactly ${expected}`, async (t) => {
    const { app } = await buildTestApp(t);
    const user = await createUser(app);
    await sendMessage(app, user.id, user.id);
    const before = await storedCounts(app);
    const response = await app.inject({
      method,
      url: url({ user: user.id }),
      ...(payload === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
    assert.equal(response.statusCode, 422);
    assert.equal(response.body, expected);
    assert.deepEqual(await storedCounts(app), before, 'a refused request stores and changes nothing');
  });
}

test('a bad path parameter and a bad body are reported together, path first', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'POST', url: '/users/abc/items/', payload: { description: 5 } });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, detail([['path', 'user_id'], NOT_INTEGER], [['body', 'title'], MISSING]));
  assert.deepEqual(await app.db.selectFrom('items').selectAll().execute(), []);
});

test('a bad path parameter and a missing body are reported together', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'POST', url: '/users/1.5/items/' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, detail([['path', 'user_id'], NOT_INTEGER], [['body'], MISSING]));
});

test('every problem of a message body is reported in one 422, in field order', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'POST', url: '/msg/create/', payload: { from_userid: 'one', to_userid: null, subject: ['x'] } });
  assert.equal(response.statusCode, 422);
  assert.equal(
    response.body,
    detail([['body', 'from_userid'], NOT_INTEGER], [['body', 'to_userid'], NONE], [['body', 'subject'], NOT_STRING], [['body', 'message'], MISSING]),
  );
  assert.deepEqual(await app.db.selectFrom('messages').selectAll().execute(), []);
});

test('a batch update with a bad list element and bad flag types reports all of them together', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({
    method: 'PUT',
    url: '/msg/list/',
    payload: { message_id_list: [1, 'x', 3.5], read: ['true'], trash: { yes: 1 } },
  });
  assert.equal(response.statusCode, 422);
  assert.equal(
    response.body,
    detail(
      [['body', 'message_id_list', 1], NOT_INTEGER],
      [['body', 'message_id_list', 2], NOT_INTEGER],
      [['body', 'read'], NOT_STRING],
      [['body', 'trash'], NOT_STRING],
    ),
  );
});

test('a bad email and a missing password are reported together', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'POST', url: '/users/', payload: { email: 'nobody' } });
  assert.equal(response.statusCode, 422);
  assert.equal(
    response.body,
    detail([['body', 'email'], { msg: 'value is not a valid email address', type: 'value_error.email' }], [['body', 'password'], MISSING]),
  );
  assert.deepEqual(await app.db.selectFrom('users').selectAll().execute(), []);
});

test('the largest safe integer is a valid id: unknown user answers 404, unknown message is skipped', async (t) => {
  const { app } = await buildTestApp(t);
  const user = await createUser(app);
  const max = Number.MAX_SAFE_INTEGER;
  const get = await app.inject({ method: 'GET', url: `/users/${max}` });
  assert.equal(get.statusCode, 404);
  assert.equal(get.body, '{"detail":"User not found"}');
  const item = await app.inject({ method: 'POST', url: `/users/${max}/items/`, payload: { title: 'x' } });
  assert.equal(item.statusCode, 404);
  assert.equal(item.body, '{"detail":"User not found"}');
  const message = await app.inject({ method: 'POST', url: '/msg/create/', payload: { from_userid: max, to_userid: user.id, subject: 'S', message: 'M' } });
  assert.equal(message.statusCode, 404);
  assert.equal(message.body, '{"detail":"User not found"}');
  const batch = await app.inject({ method: 'PUT', url: '/msg/list/', payload: { message_id_list: [max], read: 'true' } });
  assert.equal(batch.statusCode, 200);
  assert.equal(batch.body, '{"msg":"Success"}');
  const page = await app.inject({ method: 'GET', url: `/users/?skip=${max}&limit=${max}` });
  assert.equal(page.statusCode, 200);
  assert.equal(page.body, '[]');
  assert.deepEqual(await app.db.selectFrom('items').selectAll().execute(), []);
  assert.deepEqual(await app.db.selectFrom('messages').selectAll().execute(), []);
});
