import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HTTPMethods } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser } from '../helpers/factories.js';

const NOT_FOUND = '{"detail":"Not Found"}';
const METHOD_NOT_ALLOWED = '{"detail":"Method Not Allowed"}';

const unknownRoutes: [HTTPMethods, string][] = [
  ['GET', '/nope'],
  ['POST', '/nope/'],
  ['GET', '/user/'],
  ['GET', '/users/1/nope'],
  ['GET', '/msg/'],
  ['PUT', '/msg/list/extra'],
  ['DELETE', '/messages/1'],
  ['GET', '/users//1'],
  ['GET', `/${'a'.repeat(20_000)}`],
];

for (const [method, url] of unknownRoutes) {
  test(`${method} ${url.length > 40 ? `${url.slice(0, 20)}…` : url} (unknown route) answers 404 {"detail":"Not Found"}`, async (t) => {
    const { app } = await buildTestApp(t);
    const response = await app.inject({ method, url });
    assert.equal(response.statusCode, 404);
    assert.equal(response.body, NOT_FOUND);
    assert.match(String(response.headers['content-type']), /^application\/json/);
  });
}

const wrongMethods: [HTTPMethods, string][] = [
  ['DELETE', '/users/'],
  ['PUT', '/users/'],
  ['PATCH', '/msg/list/'],
  ['DELETE', '/msg/list/'],
  ['POST', '/msg/list/'],
  ['GET', '/msg/create/'],
  ['PUT', '/msg/create/'],
  ['DELETE', '/users/1'],
  ['POST', '/users/1'],
  ['GET', '/users/1/items/'],
  ['POST', '/items/'],
  ['POST', '/'],
  ['DELETE', '/'],
];

for (const [method, url] of wrongMethods) {
  test(`${method} ${url} (known route, wrong method) answers 405 {"detail":"Method Not Allowed"}`, async (t) => {
    const { app } = await buildTestApp(t);
    const user = await createUser(app);
    const response = await app.inject({ method, url: url.replace('/1', `/${user.id}`) });
    assert.equal(response.statusCode, 405);
    assert.equal(response.body, METHOD_NOT_ALLOWED);
  });
}

test('a wrong method answers 405 and changes nothing in the database', async (t) => {
  const { app } = await buildTestApp(t);
  const user = await createUser(app);
  const response = await app.inject({ method: 'DELETE', url: `/users/${user.id}` });
  assert.equal(response.statusCode, 405);
  assert.equal(response.body, METHOD_NOT_ALLOWED);
  const rows = await app.db.selectFrom('users').select(['id', 'email']).execute();
  assert.deepEqual(rows, [{ id: user.id, email: user.email }]);
});

test('a wrong method on a known route answers 405 even when the path parameter is not an integer', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'DELETE', url: '/users/abc' });
  assert.equal(response.statusCode, 405);
  assert.equal(response.body, METHOD_NOT_ALLOWED);
});

for (const escape of ['%ZZ', '%E2%82']) {
  test(`a path parameter with the invalid percent-escape ${escape} is answered in FastAPI's shape (422 at ["path","user_id"])`, async (t) => {
    const { app } = await buildTestApp(t);
    const response = await app.inject({ method: 'GET', url: `/users/${escape}` });
    assert.equal(response.statusCode, 422);
    assert.equal(response.body, '{"detail":[{"loc":["path","user_id"],"msg":"value is not a valid integer","type":"type_error.integer"}]}');
  });

  test(`an unknown route with the invalid percent-escape ${escape} answers 404 {"detail":"Not Found"}`, async (t) => {
    const { app } = await buildTestApp(t);
    const response = await app.inject({ method: 'GET', url: `/nope/${escape}` });
    assert.equal(response.statusCode, 404);
    assert.equal(response.body, NOT_FOUND);
  });
}

test('a percent-encoded slash in a path parameter is a 422 at ["path","user_id"], not another route', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'GET', url: '/users/1%2F2' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, '{"detail":[{"loc":["path","user_id"],"msg":"value is not a valid integer","type":"type_error.integer"}]}');
});
