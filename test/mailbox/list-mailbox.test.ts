/**
 * GET /users/{id}/messages: a recipient's mail newest first, filtered by folder and read state,
 * paged with an opaque cursor that neither skips nor repeats while new mail arrives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessage } from '../helpers/factories.js';
import { idsOf, insertMail, mailboxPage, type MailboxPageBody, pickContractKeys } from './mailbox-support.js';

test("a user's mailbox lists only the mail they received, newest first, the contract's keys first and then the mailbox's", async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const first = await sendMessage(app, ada.id, bob.id, { subject: 'one', message: 'first' });
  await sendMessage(app, bob.id, ada.id, { subject: 'to ada' });
  const second = await sendMessage(app, ada.id, bob.id, { subject: 'two', message: 'second' });

  const response = await app.inject({ method: 'GET', url: `/users/${bob.id}/messages` });
  assert.equal(response.statusCode, 200, response.body);
  const { messages, next_cursor: nextCursor } = response.json<MailboxPageBody>();
  assert.equal(nextCursor, null);
  assert.deepEqual(messages.map((message) => pickContractKeys(message)), [second, first]);
  assert.deepEqual(Object.keys(messages[0] ?? {}), [
    ...['id', 'from_userid', 'to_userid', 'subject', 'message', 'folder', 'unread'],
    ...['created_at', 'thread_id', 'in_reply_to', 'from_email', 'to_email'],
  ]);
});

test('an existing user without mail has an empty mailbox and no next cursor', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  assert.deepEqual(await mailboxPage(app, ada.id), { messages: [], next_cursor: null });
});

test('folder and unread filters narrow the listing; absent means every folder and both states', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const ids = [];
  for (let index = 0; index < 6; index += 1) ids.push((await sendMessage(app, ada.id, bob.id, { subject: `#${index}` })).id);
  const [inboxUnread, inboxRead, trashUnread, trashRead, spamUnread, spamRead] = ids as [number, number, number, number, number, number];
  for (const [payload, target] of [
    [{ read: 'true' }, [inboxRead, trashRead, spamRead]],
    [{ trash: 'true' }, [trashUnread, trashRead]],
    [{ spam: 'true' }, [spamUnread, spamRead]],
  ] as const) {
    const response = await batchUpdate(app, { message_id_list: target, ...payload });
    assert.equal(response.statusCode, 200, response.body);
  }
  const newestFirst = (...selected: number[]) => selected.sort((a, b) => b - a);

  assert.deepEqual(idsOf(await mailboxPage(app, bob.id)), newestFirst(...ids));
  assert.deepEqual(idsOf(await mailboxPage(app, bob.id, '?folder=inbox')), newestFirst(inboxUnread, inboxRead));
  assert.deepEqual(idsOf(await mailboxPage(app, bob.id, '?folder=trash')), newestFirst(trashUnread, trashRead));
  assert.deepEqual(idsOf(await mailboxPage(app, bob.id, '?folder=spam')), newestFirst(spamUnread, spamRead));
  assert.deepEqual(idsOf(await mailboxPage(app, bob.id, '?unread=true')), newestFirst(inboxUnread, trashUnread, spamUnread));
  assert.deepEqual(idsOf(await mailboxPage(app, bob.id, '?unread=false')), newestFirst(inboxRead, trashRead, spamRead));
  assert.deepEqual(idsOf(await mailboxPage(app, bob.id, '?folder=trash&unread=false')), [trashRead]);
  assert.deepEqual(idsOf(await mailboxPage(app, bob.id, '?folder=spam&unread=true')), [spamUnread]);

  const spam = await mailboxPage(app, bob.id, '?folder=spam&unread=false');
  assert.deepEqual(spam.messages.map((message) => pickContractKeys(message)), [
    { id: spamRead, from_userid: ada.id, to_userid: bob.id, subject: '#5', message: 'Hi there', folder: 'spam', unread: 'N' },
  ]);
});

test('limit defaults to 50 and may be raised to 200', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const ids = await insertMail(app, ada.id, bob.id, 230);
  const newestFirst = [...ids].reverse();

  const firstPage = await mailboxPage(app, bob.id);
  assert.deepEqual(idsOf(firstPage), newestFirst.slice(0, 50));
  assert.equal(typeof firstPage.next_cursor, 'string');
  assert.deepEqual(idsOf(await mailboxPage(app, bob.id, '?limit=200')), newestFirst.slice(0, 200));
  assert.deepEqual(idsOf(await mailboxPage(app, bob.id, '?limit=1')), newestFirst.slice(0, 1));
});

test('paging through 250 messages while new mail arrives between pages visits each of them once, newest first', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const ids = await insertMail(app, ada.id, bob.id, 250);
  const arrivedLater: number[] = [];

  const seen: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: Awaited<ReturnType<typeof mailboxPage>> = await mailboxPage(
      app,
      bob.id,
      `?limit=40${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    seen.push(...idsOf(page));
    cursor = page.next_cursor;
    pages += 1;
    // New mail between pages, to Bob and to someone else: it must not shift the pages still to come.
    arrivedLater.push(...(await insertMail(app, ada.id, bob.id, 3)));
    await insertMail(app, bob.id, ada.id, 2);
  } while (cursor !== null);

  assert.equal(pages, 7, 'six full pages of 40 and one of 10');
  assert.equal(new Set(seen).size, seen.length, 'no message repeats');
  assert.deepEqual(seen, [...ids].reverse(), 'no gap, newest first');
  // The mail that arrived meanwhile is on a fresh first page.
  const fresh = await mailboxPage(app, bob.id, `?limit=${arrivedLater.length}`);
  assert.deepEqual(idsOf(fresh), [...arrivedLater].reverse());
});

test('a cursor pages within a filtered view and the last page says next_cursor null', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const unreadInbox = await insertMail(app, ada.id, bob.id, 30);
  await insertMail(app, ada.id, bob.id, 20, { folder: 'inbox', unread: 'N' });
  await insertMail(app, ada.id, bob.id, 20, { folder: 'trash', unread: 'Y' });
  const expected = [...unreadInbox].reverse();

  const first = await mailboxPage(app, bob.id, '?folder=inbox&unread=true&limit=15');
  assert.deepEqual(idsOf(first), expected.slice(0, 15));
  assert.notEqual(first.next_cursor, null);
  const second = await mailboxPage(app, bob.id, `?folder=inbox&unread=true&limit=15&cursor=${first.next_cursor}`);
  // Exactly 15 left: the page is full, yet it is the last one.
  assert.deepEqual(second, { messages: second.messages, next_cursor: null });
  assert.deepEqual(idsOf(second), expected.slice(15));
});

test('unknown user: 404 {"detail":"User not found"}', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'GET', url: '/users/424242/messages' });
  assert.equal(response.statusCode, 404);
  assert.equal(response.body, '{"detail":"User not found"}');
});

for (const [query, body] of [
  [
    '?folder=deleted',
    `{"detail":[{"loc":["query","folder"],"msg":"unexpected value; permitted: 'inbox', 'trash', 'spam', 'sent'","type":"value_error.const","ctx":{"given":"deleted","permitted":["inbox","trash","spam","sent"]}}]}`,
  ],
  ['?unread=maybe', '{"detail":[{"loc":["query","unread"],"msg":"value could not be parsed to a boolean","type":"type_error.bool"}]}'],
  ['?limit=0', '{"detail":[{"loc":["query","limit"],"msg":"ensure this value is greater than or equal to 1","type":"value_error.number.not_ge","ctx":{"limit_value":1}}]}'],
  ['?limit=201', '{"detail":[{"loc":["query","limit"],"msg":"ensure this value is less than or equal to 200","type":"value_error.number.not_le","ctx":{"limit_value":200}}]}'],
  ['?limit=ten', '{"detail":[{"loc":["query","limit"],"msg":"value is not a valid integer","type":"type_error.integer"}]}'],
] as const) {
  test(`GET /users/{id}/messages${query} is a 422 located in the query`, async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const response = await app.inject({ method: 'GET', url: `/users/${ada.id}/messages${query}` });
    assert.equal(response.statusCode, 422);
    assert.equal(response.body, body);
  });
}

test('every problem of the query is reported together, path first', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'GET', url: '/users/abc/messages?folder=Inbox&unread=2&limit=-1' });
  assert.equal(response.statusCode, 422);
  assert.deepEqual(
    response.json().detail.map((issue: { loc: unknown[] }) => issue.loc),
    [
      ['path', 'user_id'],
      ['query', 'folder'],
      ['query', 'unread'],
      ['query', 'limit'],
    ],
  );
});

test('a cursor the service did not issue is a 422 at ["query","cursor"]', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const base64url = (text: string) => Buffer.from(text).toString('base64url');
  for (const cursor of ['', 'not a cursor!', 'MTIz=', base64url('abc'), base64url('0'), base64url('-5'), base64url('1.5'), base64url('99999999999999999'), 'A'.repeat(200)]) {
    const response = await app.inject({ method: 'GET', url: `/users/${ada.id}/messages?cursor=${encodeURIComponent(cursor)}` });
    assert.equal(response.statusCode, 422, `cursor ${JSON.stringify(cursor)}: ${response.body}`);
    assert.deepEqual(response.json(), { detail: [{ loc: ['query', 'cursor'], msg: 'invalid cursor', type: 'value_error.cursor' }] });
  }
  // Booleans as pydantic spells them are accepted.
  for (const unread of ['true', 'false', 'True', '1', '0', 'yes', 'no']) {
    const response = await app.inject({ method: 'GET', url: `/users/${ada.id}/messages?unread=${unread}` });
    assert.equal(response.statusCode, 200, `unread=${unread}: ${response.body}`);
  }
});
