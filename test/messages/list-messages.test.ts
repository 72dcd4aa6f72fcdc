import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser, type MessageBody, sendMessage } from '../helpers/factories.js';

function messageJson(message: MessageBody): string {
  return (
    `{"id":${message.id},"from_userid":${message.from_userid},"to_userid":${message.to_userid},` +
    `"subject":${JSON.stringify(message.subject)},"message":${JSON.stringify(message.message)},` +
    `"folder":"${message.folder}","unread":"${message.unread}"}`
  );
}

async function list(app: FastifyInstance, query = '') {
  const response = await app.inject({ method: 'GET', url: `/msg/list/${query}` });
  assert.equal(response.statusCode, 200, response.body);
  return response.body;
}

test('GET /msg/list/ on an empty database answers []', async (t) => {
  const { app } = await buildTestApp(t);
  assert.equal(await list(app), '[]');
});

test('GET /msg/list/ lists every message of every user in id order, with exactly the Message keys', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const messages = [
    await sendMessage(app, ada.id, bob.id, { subject: 'one', message: 'first' }),
    await sendMessage(app, bob.id, ada.id, { subject: 'two', message: 'second' }),
    await sendMessage(app, ada.id, ada.id, { subject: 'three', message: 'third' }),
  ];
  assert.equal(await list(app), `[${messages.map(messageJson).join(',')}]`);
});

test('GET /msg/list/ shows the current folder and unread mark after a batch update', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const first = await sendMessage(app, ada.id, bob.id);
  const second = await sendMessage(app, ada.id, bob.id);
  const update = await app.inject({ method: 'PUT', url: '/msg/list/', payload: { message_id_list: [second.id], read: 'true', trash: 'true' } });
  assert.equal(update.statusCode, 200, update.body);
  assert.equal(await list(app), `[${messageJson(first)},${messageJson({ ...second, folder: 'trash', unread: 'N' })}]`);
});

test('skip and limit page through messages in id order', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const messages: MessageBody[] = [];
  for (let index = 0; index < 5; index += 1) messages.push(await sendMessage(app, ada.id, bob.id, { subject: `#${index}` }));
  const joined = (slice: MessageBody[]) => `[${slice.map(messageJson).join(',')}]`;
  assert.equal(await list(app, '?skip=1&limit=2'), joined(messages.slice(1, 3)));
  assert.equal(await list(app, '?skip=3'), joined(messages.slice(3)));
  assert.equal(await list(app, '?limit=1'), joined(messages.slice(0, 1)));
  assert.equal(await list(app, '?limit=0'), '[]');
  assert.equal(await list(app, '?skip=5'), '[]');
  assert.equal(await list(app, '?limit=5000'), joined(messages));
});

test('GET /msg/list/ answers 100 messages by default and at most 1000', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const rows = Array.from({ length: 1002 }, (_, index) => ({ from_userid: ada.id, to_userid: bob.id, subject: `s${index}`, message: 'm' }));
  for (let start = 0; start < rows.length; start += 200) await app.db.insertInto('messages').values(rows.slice(start, start + 200)).execute();
  const ids = (await app.db.selectFrom('messages').select('id').orderBy('id').execute()).map((row) => row.id);
  const idsOf = async (query: string) => JSON.parse(await list(app, query)).map((message: MessageBody) => message.id);
  assert.deepEqual(await idsOf(''), ids.slice(0, 100));
  assert.deepEqual(await idsOf('?limit=5000'), ids.slice(0, 1000));
  assert.deepEqual(await idsOf('?skip=1001&limit=1000'), ids.slice(1001));
});

for (const [query, body] of [
  ['?skip=-1', '{"detail":[{"loc":["query","skip"],"msg":"ensure this value is greater than or equal to 0","type":"value_error.number.not_ge","ctx":{"limit_value":0}}]}'],
  ['?skip=x', '{"detail":[{"loc":["query","skip"],"msg":"value is not a valid integer","type":"type_error.integer"}]}'],
  ['?limit=2.5', '{"detail":[{"loc":["query","limit"],"msg":"value is not a valid integer","type":"type_error.integer"}]}'],
  [
    '?skip=18446744073709551616',
    '{"detail":[{"loc":["query","skip"],"msg":"ensure this value is less than or equal to 9007199254740991","type":"value_error.number.not_le","ctx":{"limit_value":9007199254740991}}]}',
  ],
] as const) {
  test(`GET /msg/list/${query} is a 422 located in the query`, async (t) => {
    const { app } = await buildTestApp(t);
    const response = await app.inject({ method: 'GET', url: `/msg/list/${query}` });
    assert.equal(response.statusCode, 422);
    assert.equal(response.body, body);
  });
}
