import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser } from '../helpers/factories.js';

interface Issue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

const BODY_MISSING = '{"detail":[{"loc":["body"],"msg":"field required","type":"value_error.missing"}]}';
const NOT_A_DICT = '{"detail":[{"loc":["body"],"msg":"value is not a valid dict","type":"type_error.dict"}]}';

/** The routes that take a body, with a valid owner for the item route. */
async function bodyRoutes(app: FastifyInstance): Promise<[HTTPMethods, string][]> {
  const owner = await createUser(app);
  return [
    ['POST', '/users/'],
    ['POST', `/users/${owner.id}/items/`],
    ['POST', '/msg/create/'],
    ['PUT', '/msg/list/'],
  ];
}

async function rowCounts(app: FastifyInstance) {
  const count = async (table: 'users' | 'items' | 'messages') =>
    Number((await app.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return { users: await count('users'), items: await count('items'), messages: await count('messages') };
}

test('malformed JSON is a 422 value_error.jsondecode at ["body"] on every route that takes a body, and nothing is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const routes = await bodyRoutes(app);
  const before = await rowCounts(app);
  for (const [method, url] of routes) {
    for (const payload of ['{"email": ', '{email: "a@b.c"}', "{'a': 1}", '{"a":1,}', 'nul', '{"a":1}}']) {
      const response = await app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload });
      assert.equal(response.statusCode, 422, `${method} ${url} ${payload}`);
      const detail = response.json<{ detail: Issue[] }>().detail;
      assert.equal(detail.length, 1);
      const [issue] = detail;
      assert.equal(typeof issue?.msg, 'string');
      assert.ok((issue?.msg ?? '').length > 0, 'the parser\'s message is given');
      assert.deepEqual(detail, [{ loc: ['body'], msg: issue?.msg, type: 'value_error.jsondecode' }]);
    }
  }
  assert.deepEqual(await rowCounts(app), before);
});

test('a missing body is a 422 "field required" at ["body"] on every route that takes a body', async (t) => {
  const { app } = await buildTestApp(t);
  const routes = await bodyRoutes(app);
  const before = await rowCounts(app);
  for (const [method, url] of routes) {
    const withoutBody = await app.inject({ method, url });
    assert.equal(withoutBody.statusCode, 422, `${method} ${url}`);
    assert.equal(withoutBody.body, BODY_MISSING);
    const emptyJson = await app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: '' });
    assert.equal(emptyJson.statusCode, 422, `${method} ${url} (empty application/json)`);
    assert.equal(emptyJson.body, BODY_MISSING);
  }
  assert.deepEqual(await rowCounts(app), before);
});

test('a JSON null body is a 422 "field required" at ["body"]', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'POST', url: '/users/', headers: { 'content-type': 'application/json' }, payload: 'null' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, BODY_MISSING);
  assert.deepEqual(await rowCounts(app), { users: 0, items: 0, messages: 0 });
});

for (const [description, payload] of [
  ['an array', '[{"email":"a@b.c","password":"x"}]'],
  ['an empty array', '[]'],
  ['a string', '"email=a@b.c"'],
  ['a number', '42'],
  ['a boolean', 'true'],
] as const) {
  test(`a JSON body that is ${description} is a 422 "value is not a valid dict" at ["body"] on every route`, async (t) => {
    const { app } = await buildTestApp(t);
    const routes = await bodyRoutes(app);
    const before = await rowCounts(app);
    for (const [method, url] of routes) {
      const response = await app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload });
      assert.equal(response.statusCode, 422, `${method} ${url}`);
      assert.equal(response.body, NOT_A_DICT);
    }
    assert.deepEqual(await rowCounts(app), before);
  });
}

test('a text/plain body, even one holding valid JSON, is a 422 "value is not a valid dict" and no user is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({
    method: 'POST',
    url: '/users/',
    headers: { 'content-type': 'text/plain' },
    payload: '{"email":"plain@example.com","password":"secret-password"}',
  });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, NOT_A_DICT);
  assert.deepEqual(await rowCounts(app), { users: 0, items: 0, messages: 0 });
});

for (const contentType of ['application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x', 'text/html']) {
  test(`a ${contentType} body is a 422 "value is not a valid dict"`, async (t) => {
    const { app } = await buildTestApp(t);
    const response = await app.inject({
      method: 'POST',
      url: '/users/',
      headers: { 'content-type': contentType },
      payload: 'email=form%40example.com&password=secret-password',
    });
    assert.equal(response.statusCode, 422);
    assert.equal(response.body, NOT_A_DICT);
    assert.deepEqual(await rowCounts(app), { users: 0, items: 0, messages: 0 });
  });
}

test('a content type that is not a media type at all is read as raw text: 422 "value is not a valid dict", as FastAPI answers', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({
    method: 'POST',
    url: '/users/',
    headers: { 'content-type': 'garbage' },
    payload: '{"email":"garbage@example.com","password":"secret-password"}',
  });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, NOT_A_DICT);
  assert.deepEqual(await rowCounts(app), { users: 0, items: 0, messages: 0 });
});

test('a body with no content type at all is read as JSON, as FastAPI does', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({
    method: 'POST',
    url: '/users/',
    payload: '{"email":"untyped@example.com","password":"secret-password"}',
    headers: { 'content-type': undefined },
  });
  assert.equal(response.statusCode, 200, response.body);
  const { id } = response.json<{ id: number }>();
  assert.equal(response.body, `{"email":"untyped@example.com","id":${id},"is_active":true,"items":[]}`);
});

test('a +json media type and a charset parameter are read as JSON', async (t) => {
  const { app } = await buildTestApp(t);
  for (const [contentType, email] of [
    ['application/json; charset=utf-8', 'charset@example.com'],
    ['application/vnd.api+json', 'vnd@example.com'],
  ] as const) {
    const response = await app.inject({ method: 'POST', url: '/users/', headers: { 'content-type': contentType }, payload: JSON.stringify({ email, password: 'password-1' }) });
    assert.equal(response.statusCode, 200, `${contentType}: ${response.body}`);
    const { id } = response.json<{ id: number }>();
    assert.equal(response.body, `{"email":"${email}","id":${id},"is_active":true,"items":[]}`);
  }
});

test('a body larger than the configured limit is refused with 413 and nothing is stored', async (t) => {
  const { app } = await buildTestApp(t, { BODY_LIMIT_BYTES: '2048' });
  const payload = JSON.stringify({ email: 'big@example.com', password: 'x'.repeat(3000) });
  const response = await app.inject({ method: 'POST', url: '/users/', headers: { 'content-type': 'application/json' }, payload });
  assert.equal(response.statusCode, 413);
  assert.equal(response.body, '{"detail":"Request body too large"}');
  assert.deepEqual(await rowCounts(app), { users: 0, items: 0, messages: 0 });
});

test('an oversized body of any content type, valid or not, is a 413, never a crash', async (t) => {
  const { app } = await buildTestApp(t, { BODY_LIMIT_BYTES: '2048' });
  for (const [contentType, payload] of [
    ['application/json', `{"email": "${'x'.repeat(5000)}`],
    ['text/plain', 'y'.repeat(5000)],
    ['application/json', '['.repeat(100_000)],
    [undefined, JSON.stringify({ message_id_list: Array.from({ length: 1000 }, (_, index) => index) })],
  ] as const) {
    const response = await app.inject({ method: 'PUT', url: '/msg/list/', headers: { 'content-type': contentType }, payload });
    assert.equal(response.statusCode, 413, `${contentType}: ${response.body}`);
    assert.equal(response.body, '{"detail":"Request body too large"}');
  }
});

test('a body just under the limit is accepted', async (t) => {
  const { app } = await buildTestApp(t, { BODY_LIMIT_BYTES: '2048' });
  // Unknown fields are ignored, as FastAPI does: they pad the body without passing the password's maximum.
  const payload = JSON.stringify({ email: 'fits@example.com', password: 'x'.repeat(200), padding: 'y'.repeat(1700) });
  assert.ok(Buffer.byteLength(payload) < 2048);
  const response = await app.inject({ method: 'POST', url: '/users/', headers: { 'content-type': 'application/json' }, payload });
  assert.equal(response.statusCode, 200, response.body);
  const { id } = response.json<{ id: number }>();
  assert.equal(response.body, `{"email":"fits@example.com","id":${id},"is_active":true,"items":[]}`);
  assert.deepEqual(await rowCounts(app), { users: 1, items: 0, messages: 0 });
});
