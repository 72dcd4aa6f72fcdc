/**
 * POST /users/{id}/messages sends as that user and answers the message in the sender's view;
 * GET /users/{id}/messages/{message_id} reads one message of that user's mailbox, in their view,
 * without marking it read. Every message now carries its time, its thread and both addresses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessage, storedMessages } from '../helpers/factories.js';
import { uniqueName } from '../helpers/services.js';
import {
  assertDetail,
  MAILBOX_MESSAGE_KEYS,
  type MailboxMessageBody,
  mailboxMessages,
  postMail,
  readMail,
  sendMail,
  storedMessageIds,
} from './mailbox-support.js';

const CONTRACT_KEYS = ['id', 'from_userid', 'to_userid', 'subject', 'message', 'folder', 'unread'];

/** created_at is Date.toISOString() of a time between `before` and `after` (epoch ms, both included). */
function assertCreatedWithin(createdAt: string | null, before: number, after: number) {
  assert.equal(typeof createdAt, 'string', `created_at ${String(createdAt)}`);
  const text = createdAt as string;
  assert.match(text, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  const ms = Date.parse(text);
  assert.equal(new Date(ms).toISOString(), text);
  assert.ok(before <= ms && ms <= after, `created_at ${text} not within ${new Date(before).toISOString()}..${new Date(after).toISOString()}`);
}

const senderView = (message: MailboxMessageBody): MailboxMessageBody => ({ ...message, folder: 'sent', unread: 'N' });
const recipientView = (message: MailboxMessageBody, folder = 'inbox', unread: 'Y' | 'N' = 'Y'): MailboxMessageBody => ({ ...message, folder, unread });

test("Ada writes to Bob: 201 with the message in Ada's view (sent, N), a thread of its own, both addresses; Bob's row is an unread inbox message", async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);

  const before = Date.now();
  const response = await postMail(app, ada.id, { to_userid: bob.id, subject: 'Lunch?', message: 'Friday at noon?' });
  const after = Date.now();

  assert.equal(response.statusCode, 201, response.body);
  const sent = response.json<MailboxMessageBody>();
  assert.deepEqual(Object.keys(sent), [...MAILBOX_MESSAGE_KEYS]);
  assert.equal(typeof sent.id, 'number');
  assertCreatedWithin(sent.created_at, before, after);
  assert.deepEqual(sent, {
    id: sent.id,
    from_userid: ada.id,
    to_userid: bob.id,
    subject: 'Lunch?',
    message: 'Friday at noon?',
    folder: 'sent',
    unread: 'N',
    created_at: sent.created_at,
    thread_id: sent.id,
    in_reply_to: null,
    from_email: ada.email,
    to_email: bob.email,
  });

  const [stored] = await storedMessages(app, [sent.id]);
  assert.deepEqual(
    stored && { from_userid: stored.from_userid, to_userid: stored.to_userid, subject: stored.subject, message: stored.message, folder: stored.folder, unread: stored.unread },
    { from_userid: ada.id, to_userid: bob.id, subject: 'Lunch?', message: 'Friday at noon?', folder: 'inbox', unread: 'Y' },
  );
  assert.deepEqual(await storedMessageIds(app), [sent.id]);
});

test('to_email finds the recipient in any letter case, and the answer shows the address as they registered it', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app, `${uniqueName('Bob.Mixed')}@Example.COM`);

  for (const address of [bob.email, bob.email.toLowerCase(), bob.email.toUpperCase()]) {
    const sent = await sendMail(app, ada.id, { to_email: address, subject: 'by address', message: address });
    assert.equal(sent.to_userid, bob.id, address);
    assert.equal(sent.to_email, bob.email, address);
    assert.equal(sent.from_email, ada.email, address);
  }
  const received = await mailboxMessages(app, bob.id);
  assert.deepEqual(
    received.messages.map((message) => message.message),
    [bob.email.toUpperCase(), bob.email.toLowerCase(), bob.email],
  );
});

test('an unknown recipient (by id or by address) or an unknown sender is a 404 User not found, and nothing is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);

  for (const [sender, payload] of [
    [ada.id, { to_userid: 424242, subject: 's', message: 'm' }],
    [ada.id, { to_email: 'nobody-here@example.com', subject: 's', message: 'm' }],
    [424242, { to_userid: bob.id, subject: 's', message: 'm' }],
    [424242, { to_email: bob.email, subject: 's', message: 'm' }],
  ] as const) {
    assertDetail(await postMail(app, sender, payload), 404, 'User not found', `${sender} ${JSON.stringify(payload)}`);
  }
  assert.deepEqual(await storedMessageIds(app), []);
});

const BODY_PROBLEMS: [string, (to: { id: number; email: string }) => unknown, unknown[]][] = [
  [
    'neither to_userid, to_email nor in_reply_to',
    () => ({ subject: 's', message: 'm' }),
    [{ loc: ['body', 'to_userid'], msg: 'to_userid or to_email required', type: 'value_error.missing' }],
  ],
  [
    'both to_userid and to_email',
    (to) => ({ to_userid: to.id, to_email: to.email, subject: 's', message: 'm' }),
    [{ loc: ['body', 'to_email'], msg: 'give to_userid or to_email, not both', type: 'value_error.conflict' }],
  ],
  [
    'no subject for a new conversation',
    (to) => ({ to_userid: to.id, message: 'm' }),
    [{ loc: ['body', 'subject'], msg: 'field required', type: 'value_error.missing' }],
  ],
  ['no message', (to) => ({ to_userid: to.id, subject: 's' }), [{ loc: ['body', 'message'], msg: 'field required', type: 'value_error.missing' }]],
  [
    'a to_userid that is not an integer',
    () => ({ to_userid: 'abc', subject: 's', message: 'm' }),
    [{ loc: ['body', 'to_userid'], msg: 'value is not a valid integer', type: 'type_error.integer' }],
  ],
  [
    'an in_reply_to that is not an integer',
    (to) => ({ to_userid: to.id, subject: 's', message: 'm', in_reply_to: 'first' }),
    [{ loc: ['body', 'in_reply_to'], msg: 'value is not a valid integer', type: 'type_error.integer' }],
  ],
  ['a body that is not an object', () => ['m'], [{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }]],
];

for (const [problem, payload, detail] of BODY_PROBLEMS) {
  test(`POST /users/{id}/messages with ${problem}: 422 in the contract's shape, nothing stored`, async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    const response = await app.inject({ method: 'POST', url: `/users/${ada.id}/messages`, payload: payload(bob) as Record<string, unknown> });
    assertDetail(response, 422, detail);
    assert.deepEqual(await storedMessageIds(app), []);
  });
}

test('subject of 500 and message of 50,000 characters are accepted; one more is a 422 max_length at its field, nothing stored', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);

  const longest = await sendMail(app, ada.id, { to_userid: bob.id, subject: 's'.repeat(500), message: 'm'.repeat(50_000) });
  assert.equal(longest.subject.length, 500);
  assert.equal(longest.message.length, 50_000);

  for (const [field, max, payload] of [
    ['subject', 500, { to_userid: bob.id, subject: 's'.repeat(501), message: 'm' }],
    ['message', 50_000, { to_userid: bob.id, subject: 's', message: 'm'.repeat(50_001) }],
  ] as const) {
    assertDetail(await postMail(app, ada.id, payload), 422, [
      { loc: ['body', field], msg: `ensure this value has at most ${max} characters`, type: 'value_error.any_str.max_length', ctx: { limit_value: max } },
    ]);
  }
  assert.deepEqual(await storedMessageIds(app), [longest.id]);
});

test("the sent message is in GET /msg/list/ with exactly the contract's seven keys, and in Bob's mailbox in the recipient's view", async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const sent = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'Minutes', message: 'attached' });

  const list = await app.inject({ method: 'GET', url: '/msg/list/' });
  assert.equal(list.statusCode, 200, list.body);
  const rows = list.json<Record<string, unknown>[]>();
  assert.equal(rows.length, 1);
  assert.deepEqual(Object.keys(rows[0] ?? {}), CONTRACT_KEYS);
  assert.deepEqual(rows[0], { id: sent.id, from_userid: ada.id, to_userid: bob.id, subject: 'Minutes', message: 'attached', folder: 'inbox', unread: 'Y' });

  const mailbox = await mailboxMessages(app, bob.id);
  assert.equal(mailbox.next_cursor, null);
  assert.equal(mailbox.messages.length, 1);
  assert.deepEqual(Object.keys(mailbox.messages[0] ?? {}), [...MAILBOX_MESSAGE_KEYS]);
  assert.deepEqual(mailbox.messages[0], recipientView(sent));
  // Ada's own received mailbox (no folder) does not list what she sent.
  assert.deepEqual((await mailboxMessages(app, ada.id)).messages, []);
});

test('a message created through /msg/create/ has a created_at, starts its own thread and carries both addresses', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const before = Date.now();
  const created = await sendMessage(app, ada.id, bob.id, { subject: 'old way', message: 'still works' });
  const after = Date.now();
  assert.deepEqual(Object.keys(created), CONTRACT_KEYS);

  const read = await readMail(app, bob.id, created.id);
  assertCreatedWithin(read.created_at, before, after);
  assert.deepEqual(read, {
    ...created,
    created_at: read.created_at,
    thread_id: created.id,
    in_reply_to: null,
    from_email: ada.email,
    to_email: bob.email,
  });
});

test("Bob reads the message in his view in every folder; Ada always reads it as sent and unread N, even after Bob reported it as spam", async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const sent = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'Offer', message: 'Buy now' });

  const bobsView = await readMail(app, bob.id, sent.id);
  assert.deepEqual(Object.keys(bobsView), [...MAILBOX_MESSAGE_KEYS]);
  assert.deepEqual(bobsView, recipientView(sent));
  assert.deepEqual(await readMail(app, ada.id, sent.id), senderView(sent));

  for (const [payload, folder, unread] of [
    [{ read: 'true' }, 'inbox', 'N'],
    [{ trash: 'true' }, 'trash', 'N'],
    [{ spam: 'true', read: 'false' }, 'spam', 'Y'],
  ] as const) {
    const update = await batchUpdate(app, { message_id_list: [sent.id], ...payload });
    assert.equal(update.statusCode, 200, update.body);
    assert.deepEqual(await readMail(app, bob.id, sent.id), recipientView(sent, folder, unread), JSON.stringify(payload));
    assert.deepEqual(await readMail(app, ada.id, sent.id), senderView(sent), `Ada after ${JSON.stringify(payload)}`);
  }
  const [stored] = await storedMessages(app, [sent.id]);
  assert.equal(stored?.folder, 'spam');
});

test('a third user, an unknown message id or an unknown user: 404 with the right detail', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const carol = await createUser(app);
  const sent = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'private', message: 'for Bob' });

  assertDetail(await app.inject({ method: 'GET', url: `/users/${carol.id}/messages/${sent.id}` }), 404, 'Message not found', 'third user');
  assertDetail(await app.inject({ method: 'GET', url: `/users/${bob.id}/messages/${sent.id + 1000}` }), 404, 'Message not found', 'unknown id');
  assertDetail(await app.inject({ method: 'GET', url: `/users/424242/messages/${sent.id}` }), 404, 'User not found', 'unknown user');
});

test('reading a message does not mark it read; the batch update does', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const sent = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'read me', message: 'twice' });

  for (let index = 0; index < 3; index += 1) assert.equal((await readMail(app, bob.id, sent.id)).unread, 'Y');
  assert.equal((await storedMessages(app, [sent.id]))[0]?.unread, 'Y');
  assert.deepEqual((await mailboxMessages(app, bob.id, '?unread=true')).messages.map((message) => message.id), [sent.id]);

  assert.equal((await batchUpdate(app, { message_id_list: [sent.id], read: 'true' })).statusCode, 200);
  assert.equal((await readMail(app, bob.id, sent.id)).unread, 'N');
});

test("a received message in the deleted folder is no longer in the recipient's mailbox, yet stays in the sender's", async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const sent = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'gone', message: 'for Bob' });
  await app.db.updateTable('messages').set({ folder: 'deleted' }).where('id', '=', sent.id).execute();

  assertDetail(await app.inject({ method: 'GET', url: `/users/${bob.id}/messages/${sent.id}` }), 404, 'Message not found');
  assert.deepEqual(await readMail(app, ada.id, sent.id), senderView(sent));
});

for (const [id, issue] of [
  ['abc', { msg: 'value is not a valid integer', type: 'type_error.integer' }],
  ['1.5', { msg: 'value is not a valid integer', type: 'type_error.integer' }],
  ['9007199254740992', { msg: 'ensure this value is less than or equal to 9007199254740991', type: 'value_error.number.not_le', ctx: { limit_value: 9007199254740991 } }],
] as const) {
  test(`path id ${id}: a 422 at ["path","message_id"] when reading one message, at ["path","user_id"] when reading or sending`, async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    assertDetail(await app.inject({ method: 'GET', url: `/users/${ada.id}/messages/${id}` }), 422, [{ loc: ['path', 'message_id'], ...issue }]);
    assertDetail(await app.inject({ method: 'GET', url: `/users/${id}/messages/1` }), 422, [{ loc: ['path', 'user_id'], ...issue }]);
    const post = await app.inject({ method: 'POST', url: `/users/${id}/messages`, payload: { to_userid: ada.id, subject: 's', message: 'm' } });
    assertDetail(post, 422, [{ loc: ['path', 'user_id'], ...issue }]);
    assert.deepEqual(await storedMessageIds(app), []);
  });
}

test('messagesPerSender counts mail sent here and through /msg/create/ against the same sender; another sender is not affected', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_MESSAGES_PER_MINUTE: '2' });
  const ada = await createUser(app);
  const bob = await createUser(app);
  const first = await sendMessage(app, ada.id, bob.id);
  const second = await sendMail(app, ada.id, { to_userid: bob.id, subject: 's', message: 'm' });

  const refused = await postMail(app, ada.id, { to_userid: bob.id, subject: 's', message: 'm' });
  assertDetail(refused, 429, 'Too many requests');
  const fromBob = await sendMail(app, bob.id, { to_userid: ada.id, subject: 's', message: 'm' });
  assert.deepEqual(await storedMessageIds(app), [first.id, second.id, fromBob.id]);
});
