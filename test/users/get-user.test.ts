import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser } from '../helpers/factories.js';

test('GET /users/{id} answers the user with exactly email, id, is_active and items', async (t) => {
  const { app } = await buildTestApp(t);
  const user = await createUser(app, 'reader@example.com');
  const response = await app.inject({ method: 'GET', url: `/users/${user.id}` });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, `{"email":"reader@example.com","id":${user.id},"is_active":true,"items":[]}`);
});

test('GET /users/{id} includes only that user\'s items, in id order, with description null or text', async (t) => {
  const { app } = await buildTestApp(t);
  const owner = await createUser(app, 'owner@example.com');
  const other = await createUser(app, 'other@example.com');
  const first = await app.inject({ method: 'POST', url: `/users/${owner.id}/items/`, payload: { title: 'Lamp', description: 'Brass' } });
  await app.inject({ method: 'POST', url: `/users/${other.id}/items/`, payload: { title: 'Not mine' } });
  const second = await app.inject({ method: 'POST', url: `/users/${owner.id}/items/`, payload: { title: 'Desk' } });
  const firstId = first.json<{ id: number }>().id;
  const secondId = second.json<{ id: number }>().id;

  const response = await app.inject({ method: 'GET', url: `/users/${owner.id}` });
  assert.equal(response.statusCode, 200);
  assert.equal(
    response.body,
    `{"email":"owner@example.com","id":${owner.id},"is_active":true,"items":[` +
      `{"title":"Lamp","description":"Brass","id":${firstId},"owner_id":${owner.id}},` +
      `{"title":"Desk","description":null,"id":${secondId},"owner_id":${owner.id}}]}`,
  );
});

test('GET /users/{id} with the trailing slash answers the same user', async (t) => {
  const { app } = await buildTestApp(t);
  const user = await createUser(app, 'slash@example.com');
  const response = await app.inject({ method: 'GET', url: `/users/${user.id}/` });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, `{"email":"slash@example.com","id":${user.id},"is_active":true,"items":[]}`);
});

for (const id of ['999', '0', '-1', '2147483648', '9007199254740991']) {
  test(`GET /users/${id} for a user that does not exist answers 404 User not found`, async (t) => {
    const { app } = await buildTestApp(t);
    await createUser(app);
    const response = await app.inject({ method: 'GET', url: `/users/${id}` });
    assert.equal(response.statusCode, 404);
    assert.equal(response.body, '{"detail":"User not found"}');
  });
}

for (const id of ['abc', '1.5', '1e3', '0x10', '%20', 'null', 'true']) {
  test(`GET /users/${id} (not an integer) is a 422 at ["path","user_id"]`, async (t) => {
    const { app } = await buildTestApp(t);
    await createUser(app);
    const response = await app.inject({ method: 'GET', url: `/users/${id}` });
    assert.equal(response.statusCode, 422);
    assert.equal(response.body, '{"detail":[{"loc":["path","user_id"],"msg":"value is not a valid integer","type":"type_error.integer"}]}');
  });
}

for (const id of ['9007199254740992', '99999999999999999999999']) {
  test(`GET /users/${id} (beyond 2^53 - 1) is a 422 at ["path","user_id"], never a 500`, async (t) => {
    const { app } = await buildTestApp(t);
    const response = await app.inject({ method: 'GET', url: `/users/${id}` });
    assert.equal(response.statusCode, 422);
    assert.equal(
      response.body,
      '{"detail":[{"loc":["path","user_id"],"msg":"ensure this value is less than or equal to 9007199254740991","type":"value_error.number.not_le","ctx":{"limit_value":9007199254740991}}]}',
    );
  });
}
