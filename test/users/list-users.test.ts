import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser, type UserBody } from '../helpers/factories.js';

async function createUsers(app: FastifyInstance, count: number): Promise<UserBody[]> {
  const users: UserBody[] = [];
  for (let index = 0; index < count; index += 1) users.push(await createUser(app, `user${index}@example.com`));
  return users;
}

/** Many users at once, straight into the table: hashing a thousand passwords through the API is slow and beside the point. */
async function insertUsersDirectly(app: FastifyInstance, count: number): Promise<void> {
  const rows = Array.from({ length: count }, (_, index) => ({ email: `bulk${index}@example.com`, email_key: `bulk${index}@example.com`, hashed_password: 'x' }));
  for (let start = 0; start < rows.length; start += 200) {
    await app.db.insertInto('users').values(rows.slice(start, start + 200)).execute();
  }
}

function userJson(user: UserBody): string {
  return `{"email":"${user.email}","id":${user.id},"is_active":true,"items":[]}`;
}

test('GET /users/ on an empty database answers []', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'GET', url: '/users/' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, '[]');
});

test('GET /users/ lists every user in id order, each with exactly the User keys', async (t) => {
  const { app } = await buildTestApp(t);
  const users = await createUsers(app, 3);
  const response = await app.inject({ method: 'GET', url: '/users/' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, `[${users.map(userJson).join(',')}]`);
});

test('GET /users/ includes each user\'s items, in id order', async (t) => {
  const { app } = await buildTestApp(t);
  const [ada, bob] = await createUsers(app, 2);
  assert.ok(ada && bob);
  const items = [];
  for (const [owner, title] of [
    [bob.id, 'b1'],
    [ada.id, 'a1'],
    [bob.id, 'b2'],
  ] as const) {
    const response = await app.inject({ method: 'POST', url: `/users/${owner}/items/`, payload: { title } });
    assert.equal(response.statusCode, 200, response.body);
    items.push(response.json<{ id: number }>().id);
  }
  const response = await app.inject({ method: 'GET', url: '/users/' });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), [
    { email: ada.email, id: ada.id, is_active: true, items: [{ title: 'a1', description: null, id: items[1], owner_id: ada.id }] },
    {
      email: bob.email,
      id: bob.id,
      is_active: true,
      items: [
        { title: 'b1', description: null, id: items[0], owner_id: bob.id },
        { title: 'b2', description: null, id: items[2], owner_id: bob.id },
      ],
    },
  ]);
});

test('skip and limit page through users in id order', async (t) => {
  const { app } = await buildTestApp(t);
  const users = await createUsers(app, 3);
  const page = async (query: string) => {
    const response = await app.inject({ method: 'GET', url: `/users/?${query}` });
    assert.equal(response.statusCode, 200, response.body);
    return response.body;
  };
  assert.equal(await page('skip=1&limit=1'), `[${userJson(users[1] as UserBody)}]`);
  assert.equal(await page('skip=1'), `[${users.slice(1).map(userJson).join(',')}]`);
  assert.equal(await page('limit=2'), `[${users.slice(0, 2).map(userJson).join(',')}]`);
  assert.equal(await page('skip=0&limit=100'), `[${users.map(userJson).join(',')}]`);
  assert.equal(await page('skip=3'), '[]');
  assert.equal(await page('skip=1000000'), '[]');
  assert.equal(await page('limit=0'), '[]');
});

test('a limit above 1000 is accepted and answers every user when there are few', async (t) => {
  const { app } = await buildTestApp(t);
  const users = await createUsers(app, 3);
  const response = await app.inject({ method: 'GET', url: '/users/?limit=5000' });
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.body, `[${users.map(userJson).join(',')}]`);
});

test('the default page is 100 users and a limit above 1000 is capped at 1000', async (t) => {
  const { app } = await buildTestApp(t);
  await insertUsersDirectly(app, 1005);
  const ids = (await app.db.selectFrom('users').select('id').orderBy('id').execute()).map((row) => row.id);

  const byDefault = await app.inject({ method: 'GET', url: '/users/' });
  assert.equal(byDefault.statusCode, 200);
  assert.deepEqual(
    byDefault.json<UserBody[]>().map((user) => user.id),
    ids.slice(0, 100),
  );

  const capped = await app.inject({ method: 'GET', url: '/users/?limit=5000' });
  assert.equal(capped.statusCode, 200);
  assert.deepEqual(
    capped.json<UserBody[]>().map((user) => user.id),
    ids.slice(0, 1000),
  );

  const cappedWithSkip = await app.inject({ method: 'GET', url: '/users/?skip=4&limit=1001' });
  assert.deepEqual(
    cappedWithSkip.json<UserBody[]>().map((user) => user.id),
    ids.slice(4, 1004),
  );
});

const notGe0 = (part: string) =>
  `{"detail":[{"loc":["query","${part}"],"msg":"ensure this value is greater than or equal to 0","type":"value_error.number.not_ge","ctx":{"limit_value":0}}]}`;
const notInteger = (part: string) => `{"detail":[{"loc":["query","${part}"],"msg":"value is not a valid integer","type":"type_error.integer"}]}`;
const tooBig = (part: string) =>
  `{"detail":[{"loc":["query","${part}"],"msg":"ensure this value is less than or equal to 9007199254740991","type":"value_error.number.not_le","ctx":{"limit_value":9007199254740991}}]}`;

const badPaging: [string, string][] = [
  ['skip=-1', notGe0('skip')],
  ['skip=abc', notInteger('skip')],
  ['skip=1.5', notInteger('skip')],
  ['skip=1e3', notInteger('skip')],
  ['skip=', notInteger('skip')],
  ['skip=99999999999999999999', tooBig('skip')],
  ['skip=9007199254740992', tooBig('skip')],
  ['limit=-5', notGe0('limit')],
  ['limit=ten', notInteger('limit')],
  ['limit=99999999999999999999', tooBig('limit')],
];

for (const [query, body] of badPaging) {
  test(`GET /users/?${query} is a 422 located in the query`, async (t) => {
    const { app } = await buildTestApp(t);
    await createUsers(app, 1);
    const response = await app.inject({ method: 'GET', url: `/users/?${query}` });
    assert.equal(response.statusCode, 422);
    assert.equal(response.body, body);
  });
}

test('a bad skip and a bad limit are reported together, skip first', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'GET', url: '/users/?skip=-1&limit=x' });
  assert.equal(response.statusCode, 422);
  assert.deepEqual(response.json(), {
    detail: [
      { loc: ['query', 'skip'], msg: 'ensure this value is greater than or equal to 0', type: 'value_error.number.not_ge', ctx: { limit_value: 0 } },
      { loc: ['query', 'limit'], msg: 'value is not a valid integer', type: 'type_error.integer' },
    ],
  });
});

test('unknown query parameters are ignored', async (t) => {
  const { app } = await buildTestApp(t);
  const users = await createUsers(app, 2);
  const response = await app.inject({ method: 'GET', url: '/users/?page=7&sort=desc' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, `[${users.map(userJson).join(',')}]`);
});
