import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser } from '../helpers/factories.js';

function createItem(app: FastifyInstance, ownerId: number | string, payload: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: `/users/${ownerId}/items/`, payload });
}

async function storedItems(app: FastifyInstance) {
  return app.db.selectFrom('items').selectAll().orderBy('id').execute();
}

test('an item created without a description answers exactly title, description null, id and owner_id', async (t) => {
  const { app } = await buildTestApp(t);
  const owner = await createUser(app);
  const response = await createItem(app, owner.id, { title: 'Lamp' });
  assert.equal(response.statusCode, 200, response.body);
  const { id } = response.json<{ id: number }>();
  assert.ok(Number.isInteger(id) && id > 0);
  assert.equal(response.body, `{"title":"Lamp","description":null,"id":${id},"owner_id":${owner.id}}`);
  assert.deepEqual(await storedItems(app), [{ id, title: 'Lamp', description: null, owner_id: owner.id }]);
});

test('an item created with a description stores and answers it', async (t) => {
  const { app } = await buildTestApp(t);
  const owner = await createUser(app);
  const response = await createItem(app, owner.id, { title: 'Lamp', description: 'Brass, 1920s' });
  assert.equal(response.statusCode, 200, response.body);
  const { id } = response.json<{ id: number }>();
  assert.equal(response.body, `{"title":"Lamp","description":"Brass, 1920s","id":${id},"owner_id":${owner.id}}`);
  assert.deepEqual(await storedItems(app), [{ id, title: 'Lamp', description: 'Brass, 1920s', owner_id: owner.id }]);
});

test('an item created with description null answers description null', async (t) => {
  const { app } = await buildTestApp(t);
  const owner = await createUser(app);
  const response = await createItem(app, owner.id, { title: 'Lamp', description: null });
  assert.equal(response.statusCode, 200, response.body);
  const { id } = response.json<{ id: number }>();
  assert.equal(response.body, `{"title":"Lamp","description":null,"id":${id},"owner_id":${owner.id}}`);
  assert.deepEqual(await storedItems(app), [{ id, title: 'Lamp', description: null, owner_id: owner.id }]);
});

test('the new item shows up in its owner\'s items', async (t) => {
  const { app } = await buildTestApp(t);
  const owner = await createUser(app, 'owner@example.com');
  const item = (await createItem(app, owner.id, { title: 'Lamp' })).json<{ id: number }>();
  const response = await app.inject({ method: 'GET', url: `/users/${owner.id}` });
  assert.equal(
    response.body,
    `{"email":"owner@example.com","id":${owner.id},"is_active":true,"items":[{"title":"Lamp","description":null,"id":${item.id},"owner_id":${owner.id}}]}`,
  );
});

for (const ownerId of [999, 0, -3, 2147483648]) {
  test(`when the owner ${ownerId} does not exist, the answer is 404 User not found and no item is stored`, async (t) => {
    const { app } = await buildTestApp(t);
    await createUser(app);
    const response = await createItem(app, ownerId, { title: 'Orphan', description: 'nobody owns me' });
    assert.equal(response.statusCode, 404);
    assert.equal(response.body, '{"detail":"User not found"}');
    assert.deepEqual(await storedItems(app), []);
  });
}

test('an item without a title is a 422 at ["body","title"] and nothing is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const owner = await createUser(app);
  const response = await createItem(app, owner.id, { description: 'no title' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, '{"detail":[{"loc":["body","title"],"msg":"field required","type":"value_error.missing"}]}');
  assert.deepEqual(await storedItems(app), []);
});

test('an item with a title that is not a string and a description that is a list reports both', async (t) => {
  const { app } = await buildTestApp(t);
  const owner = await createUser(app);
  const response = await createItem(app, owner.id, { title: { text: 'x' }, description: ['a'] });
  assert.equal(response.statusCode, 422);
  assert.equal(
    response.body,
    '{"detail":[{"loc":["body","title"],"msg":"str type expected","type":"type_error.str"},' +
      '{"loc":["body","description"],"msg":"str type expected","type":"type_error.str"}]}',
  );
  assert.deepEqual(await storedItems(app), []);
});

test('an item for a non-integer owner id is a 422 at ["path","user_id"] and nothing is stored', async (t) => {
  const { app } = await buildTestApp(t);
  await createUser(app);
  const response = await createItem(app, 'abc', { title: 'Lamp' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, '{"detail":[{"loc":["path","user_id"],"msg":"value is not a valid integer","type":"type_error.integer"}]}');
  assert.deepEqual(await storedItems(app), []);
});

test('GET /items/ lists every item of every owner in id order', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const made = [];
  for (const [owner, title, description] of [
    [bob.id, 'one', null],
    [ada.id, 'two', 'second'],
    [bob.id, 'three', undefined],
  ] as const) {
    const response = await createItem(app, owner, description === undefined ? { title } : { title, description });
    made.push(response.json<{ id: number }>().id);
  }
  const response = await app.inject({ method: 'GET', url: '/items/' });
  assert.equal(response.statusCode, 200);
  assert.equal(
    response.body,
    `[{"title":"one","description":null,"id":${made[0]},"owner_id":${bob.id}},` +
      `{"title":"two","description":"second","id":${made[1]},"owner_id":${ada.id}},` +
      `{"title":"three","description":null,"id":${made[2]},"owner_id":${bob.id}}]`,
  );
});

test('GET /items/ on an empty database answers []', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'GET', url: '/items/' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, '[]');
});

test('GET /items/ pages with skip and limit, caps limit at 1000, and refuses a negative skip', async (t) => {
  const { app } = await buildTestApp(t);
  const owner = await createUser(app);
  const rows = Array.from({ length: 1003 }, (_, index) => ({ owner_id: owner.id, title: `t${index}`, description: null }));
  for (let start = 0; start < rows.length; start += 200) await app.db.insertInto('items').values(rows.slice(start, start + 200)).execute();
  const ids = (await app.db.selectFrom('items').select('id').orderBy('id').execute()).map((row) => row.id);
  const idsOf = async (query: string) => {
    const response = await app.inject({ method: 'GET', url: `/items/${query}` });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ id: number }[]>().map((item) => item.id);
  };
  assert.deepEqual(await idsOf(''), ids.slice(0, 100));
  assert.deepEqual(await idsOf('?skip=2&limit=3'), ids.slice(2, 5));
  assert.deepEqual(await idsOf('?limit=5000'), ids.slice(0, 1000));
  assert.deepEqual(await idsOf('?skip=1000&limit=5000'), ids.slice(1000));

  const negative = await app.inject({ method: 'GET', url: '/items/?skip=-1' });
  assert.equal(negative.statusCode, 422);
  assert.equal(
    negative.body,
    '{"detail":[{"loc":["query","skip"],"msg":"ensure this value is greater than or equal to 0","type":"value_error.number.not_ge","ctx":{"limit_value":0}}]}',
  );
});
