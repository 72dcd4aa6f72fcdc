import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { MESSAGE_COLUMNS } from '../../src/modules/messages/messages.repository.js';
import { createUser } from '../helpers/factories.js';

function postMessage(app: FastifyInstance, payload: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: '/msg/create/', payload });
}

async function allStoredMessages(app: FastifyInstance) {
  return app.db.selectFrom('messages').select(MESSAGE_COLUMNS).orderBy('id').execute();
}

test('a new message answers exactly the Message keys, in the inbox and unread', async (t) => {
  const { app } = await buildTestApp(t);
  const sender = await createUser(app);
  const recipient = await createUser(app);
  const response = await postMessage(app, { from_userid: sender.id, to_userid: recipient.id, subject: 'Lunch?', message: 'At noon' });
  assert.equal(response.statusCode, 200, response.body);
  const { id } = response.json<{ id: number }>();
  assert.ok(Number.isInteger(id) && id > 0);
  assert.equal(
    response.body,
    `{"id":${id},"from_userid":${sender.id},"to_userid":${recipient.id},"subject":"Lunch?","message":"At noon","folder":"inbox","unread":"Y"}`,
  );
  assert.deepEqual(await allStoredMessages(app), [
    { id, from_userid: sender.id, to_userid: recipient.id, subject: 'Lunch?', message: 'At noon', folder: 'inbox', unread: 'Y' },
  ]);
});

test('a message stores its text exactly, unicode and empty strings included', async (t) => {
  const { app } = await buildTestApp(t);
  const sender = await createUser(app);
  const recipient = await createUser(app);
  const subject = 'Grüße 👋 "quoted" \\ back\nslash';
  const response = await postMessage(app, { from_userid: sender.id, to_userid: recipient.id, subject, message: '' });
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json<{ id: number; subject: string; message: string }>();
  assert.deepEqual(body, {
    id: body.id,
    from_userid: sender.id,
    to_userid: recipient.id,
    subject,
    message: '',
    folder: 'inbox',
    unread: 'Y',
  });
  const [row] = await allStoredMessages(app);
  assert.equal(row?.subject, subject);
  assert.equal(row?.message, '');
});

test('the answer to a create is the message as stored and read back, even for text the database changes (lone surrogates)', async (t) => {
  const { app } = await buildTestApp(t);
  const sender = await createUser(app);
  const recipient = await createUser(app);
  // A pair stays as it is; a half of one alone is stored in UTF-8 as the database's driver writes it: as
  // U+FFFD (PostgreSQL; SQLite on Node.js 24) or as bytes that read back as three of them (SQLite on 20).
  const subject = 'pair \ud83d\udc4b, high \ud83d alone, low \udc4b alone, at the end \ud83d';
  const message = '\udc4b\ud83d reversed';
  const response = await postMessage(app, { from_userid: sender.id, to_userid: recipient.id, subject, message });
  assert.equal(response.statusCode, 200, response.body);
  const created = response.json<{ id: number; subject: string; message: string }>();
  assert.match(created.subject, /^pair \ud83d\udc4b, high \ufffd+ alone, low \ufffd+ alone, at the end \ufffd+$/u);
  assert.match(created.message, /^\ufffd+ reversed$/u);
  const [row] = await allStoredMessages(app);
  assert.deepEqual(created, row);
  const listed = await app.inject({ method: 'GET', url: '/msg/list/' });
  assert.deepEqual(listed.json(), [created]);
});

test('a user may send a message to themselves', async (t) => {
  const { app } = await buildTestApp(t);
  const user = await createUser(app);
  const response = await postMessage(app, { from_userid: user.id, to_userid: user.id, subject: 'Note', message: 'to self' });
  assert.equal(response.statusCode, 200, response.body);
  const { id } = response.json<{ id: number }>();
  assert.equal(
    response.body,
    `{"id":${id},"from_userid":${user.id},"to_userid":${user.id},"subject":"Note","message":"to self","folder":"inbox","unread":"Y"}`,
  );
});

test('ids sent as numeric strings are coerced to integers', async (t) => {
  const { app } = await buildTestApp(t);
  const sender = await createUser(app);
  const recipient = await createUser(app);
  const response = await postMessage(app, { from_userid: String(sender.id), to_userid: String(recipient.id), subject: 'S', message: 'M' });
  assert.equal(response.statusCode, 200, response.body);
  const { id } = response.json<{ id: number }>();
  assert.equal(
    response.body,
    `{"id":${id},"from_userid":${sender.id},"to_userid":${recipient.id},"subject":"S","message":"M","folder":"inbox","unread":"Y"}`,
  );
});

test('when the sender does not exist, the answer is 404 User not found and no message is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const recipient = await createUser(app);
  const response = await postMessage(app, { from_userid: recipient.id + 100, to_userid: recipient.id, subject: 'S', message: 'M' });
  assert.equal(response.statusCode, 404);
  assert.equal(response.body, '{"detail":"User not found"}');
  assert.deepEqual(await allStoredMessages(app), []);
});

test('when the recipient does not exist, the answer is 404 User not found and no message is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const sender = await createUser(app);
  const response = await postMessage(app, { from_userid: sender.id, to_userid: sender.id + 100, subject: 'S', message: 'M' });
  assert.equal(response.statusCode, 404);
  assert.equal(response.body, '{"detail":"User not found"}');
  assert.deepEqual(await allStoredMessages(app), []);
});

test('when neither sender nor recipient exists, the answer is 404 User not found and no message is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await postMessage(app, { from_userid: 1, to_userid: 2, subject: 'S', message: 'M' });
  assert.equal(response.statusCode, 404);
  assert.equal(response.body, '{"detail":"User not found"}');
  assert.deepEqual(await allStoredMessages(app), []);
});

test('when the recipient id is beyond 32 bits but a safe integer, the answer is 404, not a 500, and nothing is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const sender = await createUser(app);
  const response = await postMessage(app, { from_userid: sender.id, to_userid: 9007199254740991, subject: 'S', message: 'M' });
  assert.equal(response.statusCode, 404);
  assert.equal(response.body, '{"detail":"User not found"}');
  assert.deepEqual(await allStoredMessages(app), []);
});

test('a message with every field missing reports all four, in field order, and stores nothing', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await postMessage(app, {});
  assert.equal(response.statusCode, 422);
  assert.deepEqual(response.json(), {
    detail: ['from_userid', 'to_userid', 'subject', 'message'].map((field) => ({
      loc: ['body', field],
      msg: 'field required',
      type: 'value_error.missing',
    })),
  });
  assert.deepEqual(await allStoredMessages(app), []);
});

test('a message with wrong types reports each problem with its own msg and type', async (t) => {
  const { app } = await buildTestApp(t);
  const sender = await createUser(app);
  const response = await postMessage(app, { from_userid: 'abc', to_userid: null, subject: ['x'], message: { text: 'y' } });
  assert.equal(response.statusCode, 422);
  assert.equal(
    response.body,
    '{"detail":[' +
      '{"loc":["body","from_userid"],"msg":"value is not a valid integer","type":"type_error.integer"},' +
      '{"loc":["body","to_userid"],"msg":"none is not an allowed value","type":"type_error.none.not_allowed"},' +
      '{"loc":["body","subject"],"msg":"str type expected","type":"type_error.str"},' +
      '{"loc":["body","message"],"msg":"str type expected","type":"type_error.str"}]}',
  );
  assert.ok(sender);
  assert.deepEqual(await allStoredMessages(app), []);
});

test('a fractional sender id is a 422 at ["body","from_userid"] and nothing is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const sender = await createUser(app);
  const recipient = await createUser(app);
  const response = await postMessage(app, { from_userid: sender.id + 0.5, to_userid: recipient.id, subject: 'S', message: 'M' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, '{"detail":[{"loc":["body","from_userid"],"msg":"value is not a valid integer","type":"type_error.integer"}]}');
  assert.deepEqual(await allStoredMessages(app), []);
});
