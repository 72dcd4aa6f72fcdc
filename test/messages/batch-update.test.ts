import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Folder } from '../../src/db/database.js';
import { buildTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, type MessageBody, sendMessages, storedMessages } from '../helpers/factories.js';

const SUCCESS = '{"msg":"Success"}';

/** An app with one sender, one recipient and `count` fresh messages between them. */
async function mailbox(t: Parameters<typeof buildTestApp>[0], count: number) {
  const { app } = await buildTestApp(t);
  const sender = await createUser(app);
  const recipient = await createUser(app);
  const ids = await sendMessages(app, sender.id, recipient.id, count);
  const before = await storedMessages(app, ids);
  return { app, sender, recipient, ids, before };
}

function withState(messages: MessageBody[], state: Partial<Pick<MessageBody, 'folder' | 'unread'>>, only?: number[]): MessageBody[] {
  return messages.map((message) => (only === undefined || only.includes(message.id) ? { ...message, ...state } : message));
}

async function setFolder(app: FastifyInstance, ids: number[], folder: Folder) {
  await app.db.updateTable('messages').set({ folder }).where('id', 'in', ids).execute();
}

test('read "true" marks every listed message read and answers {"msg":"Success"}', async (t) => {
  const { app, ids, before } = await mailbox(t, 3);
  const response = await batchUpdate(app, { message_id_list: ids.slice(0, 2), read: 'true' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { unread: 'N' }, ids.slice(0, 2)));
});

test('read "false" marks read messages unread again', async (t) => {
  const { app, ids, before } = await mailbox(t, 2);
  assert.equal((await batchUpdate(app, { message_id_list: ids, read: 'true' })).body, SUCCESS);
  const response = await batchUpdate(app, { message_id_list: ids, read: 'false' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('trash "true" moves inbox messages to trash and trash "false" brings them back', async (t) => {
  const { app, ids, before } = await mailbox(t, 2);
  assert.equal((await batchUpdate(app, { message_id_list: ids, trash: 'true' })).body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'trash' }));
  assert.equal((await batchUpdate(app, { message_id_list: ids, trash: 'false' })).body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('spam "true" moves messages to spam and spam "false" moves them to the inbox', async (t) => {
  const { app, ids, before } = await mailbox(t, 2);
  assert.equal((await batchUpdate(app, { message_id_list: ids, spam: 'true' })).body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'spam' }));
  assert.equal((await batchUpdate(app, { message_id_list: ids, spam: 'false' })).body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('when trash and spam are both sent, spam wins: trash "true" with spam "true" lands in spam', async (t) => {
  const { app, ids, before } = await mailbox(t, 1);
  const response = await batchUpdate(app, { message_id_list: ids, trash: 'true', spam: 'true', read: 'true' });
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'spam', unread: 'N' }));
});

test('when trash "true" comes with spam "false", the message lands in the inbox', async (t) => {
  const { app, ids, before } = await mailbox(t, 1);
  await setFolder(app, ids, 'spam');
  const response = await batchUpdate(app, { message_id_list: ids, trash: 'true', spam: 'false' });
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('a sent message moves to deleted on trash "true" and ignores read and spam', async (t) => {
  const { app, ids, before } = await mailbox(t, 2);
  await setFolder(app, ids, 'sent');
  const ignored = await batchUpdate(app, { message_id_list: ids, read: 'true', spam: 'true', trash: 'false' });
  assert.equal(ignored.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'sent' }));
  const trashed = await batchUpdate(app, { message_id_list: ids, trash: 'true', read: 'true', spam: 'true' });
  assert.equal(trashed.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'deleted' }));
});

test('a deleted message never changes, whatever the flags', async (t) => {
  const { app, ids, before } = await mailbox(t, 1);
  await setFolder(app, ids, 'deleted');
  for (const flags of [{ read: 'true', trash: 'false' }, { spam: 'true' }, { spam: 'false', trash: 'true' }, { read: 'false' }]) {
    const response = await batchUpdate(app, { message_id_list: ids, ...flags });
    assert.equal(response.body, SUCCESS);
  }
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'deleted' }));
});

test('ids sent as numeric strings are coerced to integers', async (t) => {
  const { app, ids, before } = await mailbox(t, 3);
  const response = await batchUpdate(app, { message_id_list: ids.map(String), read: 'true' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { unread: 'N' }));
});

test('ids may mix numbers and numeric strings', async (t) => {
  const { app, ids, before } = await mailbox(t, 2);
  const response = await batchUpdate(app, { message_id_list: [ids[0], String(ids[1])], trash: 'true' });
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'trash' }));
});

test('JSON booleans are accepted as flags', async (t) => {
  const { app, ids, before } = await mailbox(t, 2);
  assert.equal((await batchUpdate(app, { message_id_list: ids, read: true, trash: true })).body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'trash', unread: 'N' }));
  assert.equal((await batchUpdate(app, { message_id_list: ids, read: false, trash: false })).body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), before);
  assert.equal((await batchUpdate(app, { message_id_list: ids, spam: true })).body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'spam' }));
  assert.equal((await batchUpdate(app, { message_id_list: ids, spam: false })).body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('a null flag leaves that property as it is', async (t) => {
  const { app, ids, before } = await mailbox(t, 1);
  assert.equal((await batchUpdate(app, { message_id_list: ids, read: 'true', trash: 'true' })).body, SUCCESS);
  const response = await batchUpdate(app, { message_id_list: ids, read: null, trash: null, spam: null });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'trash', unread: 'N' }));
  assert.equal((await batchUpdate(app, { message_id_list: ids, read: null, trash: 'false' })).body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { unread: 'N' }));
});

test('no flags at all is a success that changes nothing', async (t) => {
  const { app, ids, before } = await mailbox(t, 2);
  const response = await batchUpdate(app, { message_id_list: ids });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('unknown ids are skipped silently and the known ones still change', async (t) => {
  const { app, ids, before } = await mailbox(t, 2);
  const unknown = Math.max(...ids) + 1000;
  const response = await batchUpdate(app, { message_id_list: [unknown, ids[0], unknown + 1], read: 'true' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { unread: 'N' }, [ids[0] as number]));
  assert.deepEqual(await storedMessages(app, [unknown, unknown + 1]), [], 'no row appears for an unknown id');
});

test('a list of only unknown ids (including 0, negatives and huge safe ids) answers Success and changes nothing', async (t) => {
  const { app, ids, before } = await mailbox(t, 1);
  const response = await batchUpdate(app, { message_id_list: [0, -1, 424242, 2147483648, 9007199254740991], trash: 'true' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('a repeated id is applied once', async (t) => {
  const { app, ids, before } = await mailbox(t, 1);
  const response = await batchUpdate(app, { message_id_list: [ids[0], ids[0], ids[0]], trash: 'true' });
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'trash' }));
});

test('ten ids are accepted', async (t) => {
  const { app, ids, before } = await mailbox(t, 10);
  const response = await batchUpdate(app, { message_id_list: ids, read: 'true' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { unread: 'N' }));
});

test('an empty id list is a 422 "Please provide message IDs."', async (t) => {
  const { app, ids, before } = await mailbox(t, 1);
  const response = await batchUpdate(app, { message_id_list: [], read: 'true' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, '{"detail":"Please provide message IDs."}');
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('eleven ids are a 422 "Requested too many messages." and none of them changes', async (t) => {
  const { app, ids, before } = await mailbox(t, 11);
  const response = await batchUpdate(app, { message_id_list: ids, read: 'true', trash: 'true' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, '{"detail":"Requested too many messages."}');
  assert.deepEqual(await storedMessages(app, ids), before);
});

for (const flag of ['read', 'trash', 'spam']) {
  for (const [value, shown] of [
    ['yes', 'yes'],
    ['True', 'True'],
    ['1', '1'],
    ['', ''],
    [5, '5'],
    [0, '0'],
  ] as const) {
    test(`${flag} = ${JSON.stringify(value)} is a 422 "Invalid option: ${shown}" and nothing changes`, async (t) => {
      const { app, ids, before } = await mailbox(t, 2);
      const response = await batchUpdate(app, { message_id_list: ids, [flag]: value });
      assert.equal(response.statusCode, 422);
      assert.equal(response.body, JSON.stringify({ detail: `Invalid option: ${shown}` }));
      assert.deepEqual(await storedMessages(app, ids), before);
    });
  }
}

test('one invalid flag among valid ones refuses the whole request', async (t) => {
  const { app, ids, before } = await mailbox(t, 2);
  const response = await batchUpdate(app, { message_id_list: ids, read: 'true', trash: 'maybe', spam: 'true' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, '{"detail":"Invalid option: maybe"}');
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('a fractional id such as 1.5 is a 422 at ["body","message_id_list",0] and nothing changes', async (t) => {
  const { app, ids, before } = await mailbox(t, 2);
  const response = await batchUpdate(app, { message_id_list: [1.5, ids[1]], read: 'true' });
  assert.equal(response.statusCode, 422);
  assert.equal(
    response.body,
    '{"detail":[{"loc":["body","message_id_list",0],"msg":"value is not a valid integer","type":"type_error.integer"}]}',
  );
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('every bad id is reported at its own index, together', async (t) => {
  const { app, ids, before } = await mailbox(t, 1);
  const response = await app.inject({
    method: 'PUT',
    url: '/msg/list/',
    headers: { 'content-type': 'application/json' },
    payload: `{"message_id_list":[${ids[0]},"seven",null,2.5,9007199254740993],"read":"true"}`,
  });
  assert.equal(response.statusCode, 422);
  assert.deepEqual(response.json(), {
    detail: [
      { loc: ['body', 'message_id_list', 1], msg: 'value is not a valid integer', type: 'type_error.integer' },
      { loc: ['body', 'message_id_list', 2], msg: 'none is not an allowed value', type: 'type_error.none.not_allowed' },
      { loc: ['body', 'message_id_list', 3], msg: 'value is not a valid integer', type: 'type_error.integer' },
      {
        loc: ['body', 'message_id_list', 4],
        msg: 'ensure this value is less than or equal to 9007199254740991',
        type: 'value_error.number.not_le',
        ctx: { limit_value: 9007199254740991 },
      },
    ],
  });
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('a missing message_id_list is a 422 "field required" at ["body","message_id_list"]', async (t) => {
  const { app, ids, before } = await mailbox(t, 1);
  const response = await batchUpdate(app, { read: 'true' });
  assert.equal(response.statusCode, 422);
  assert.equal(response.body, '{"detail":[{"loc":["body","message_id_list"],"msg":"field required","type":"value_error.missing"}]}');
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('a message_id_list that is not a list is a 422 "value is not a valid list"', async (t) => {
  const { app, ids, before } = await mailbox(t, 1);
  for (const value of [ids[0], String(ids[0]), { 0: ids[0] }]) {
    const response = await batchUpdate(app, { message_id_list: value, read: 'true' });
    assert.equal(response.statusCode, 422);
    assert.equal(response.body, '{"detail":[{"loc":["body","message_id_list"],"msg":"value is not a valid list","type":"type_error.list"}]}');
  }
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('a flag that is a list or an object is a 422 "str type expected" at that flag', async (t) => {
  const { app, ids, before } = await mailbox(t, 1);
  const response = await batchUpdate(app, { message_id_list: ids, read: ['true'], spam: { value: 'true' } });
  assert.equal(response.statusCode, 422);
  assert.equal(
    response.body,
    '{"detail":[{"loc":["body","read"],"msg":"str type expected","type":"type_error.str"},' +
      '{"loc":["body","spam"],"msg":"str type expected","type":"type_error.str"}]}',
  );
  assert.deepEqual(await storedMessages(app, ids), before);
});

test('messages of several senders and recipients change together in one request', async (t) => {
  const { app } = await buildTestApp(t);
  const [ada, bob, cy] = [await createUser(app), await createUser(app), await createUser(app)];
  const ids = [...(await sendMessages(app, ada.id, bob.id, 2)), ...(await sendMessages(app, cy.id, ada.id, 2))];
  const before = await storedMessages(app, ids);
  const response = await batchUpdate(app, { message_id_list: ids, read: 'true', trash: 'true' });
  assert.equal(response.body, SUCCESS);
  assert.deepEqual(await storedMessages(app, ids), withState(before, { folder: 'trash', unread: 'N' }));
});
