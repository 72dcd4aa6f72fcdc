/**
 * Replies and conversations: POST /users/{id}/messages with in_reply_to joins the thread of the
 * message answered; GET /users/{id}/threads/{thread_id} lists the conversation oldest first as that
 * user sees it. And the sent view: GET /users/{id}/messages?folder=sent and the "sent" folder count.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessage } from '../helpers/factories.js';
import {
  assertDetail,
  folderCounts,
  insertMail,
  type MailboxMessageBody,
  type MailboxMessagesPage,
  mailboxMessages,
  postMail,
  readMail,
  readThread,
  sendMail,
  storedMessageIds,
} from './mailbox-support.js';

const senderView = (message: MailboxMessageBody): MailboxMessageBody => ({ ...message, folder: 'sent', unread: 'N' });
const recipientView = (message: MailboxMessageBody, folder = 'inbox', unread: 'Y' | 'N' = 'Y'): MailboxMessageBody => ({ ...message, folder, unread });
const idsOfMessages = (messages: { id: number }[]) => messages.map((message) => message.id);

test('a conversation of three replies between Ada and Bob is listed the same from both sides, oldest first, each message in that side’s view', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);

  const m1 = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'Lunch on Friday', message: 'Noon at the café?' });
  // Bob answers with nothing but in_reply_to: recipient, subject and thread follow from m1.
  const m2 = await sendMail(app, bob.id, { in_reply_to: m1.id, message: 'Yes, see you there.' });
  assert.deepEqual(m2, {
    id: m2.id,
    from_userid: bob.id,
    to_userid: ada.id,
    subject: 'Re: Lunch on Friday',
    message: 'Yes, see you there.',
    folder: 'sent',
    unread: 'N',
    created_at: m2.created_at,
    thread_id: m1.id,
    in_reply_to: m1.id,
    from_email: bob.email,
    to_email: ada.email,
  });
  const m3 = await sendMail(app, ada.id, { in_reply_to: m2.id, message: 'Great.' });
  const m4 = await sendMail(app, bob.id, { in_reply_to: m3.id, message: 'Bring the report.' });
  for (const [reply, answered, from, to] of [
    [m3, m2, ada, bob],
    [m4, m3, bob, ada],
  ] as const) {
    assert.deepEqual(
      [reply.from_userid, reply.to_userid, reply.subject, reply.thread_id, reply.in_reply_to, reply.from_email, reply.to_email],
      [from.id, to.id, 'Re: Lunch on Friday', m1.id, answered.id, from.email, to.email],
      `reply ${reply.id}`,
    );
  }

  // Some reading happens: Bob has read m1 and m3, Ada has read m2; m4 is new for Ada.
  assert.equal((await batchUpdate(app, { message_id_list: [m1.id, m3.id, m2.id], read: 'true' })).statusCode, 200);

  const adasThread = await readThread(app, ada.id, m1.id);
  const bobsThread = await readThread(app, bob.id, m1.id);
  assert.deepEqual(Object.keys(adasThread), ['thread_id', 'messages']);
  assert.deepEqual(idsOfMessages(adasThread.messages), [m1.id, m2.id, m3.id, m4.id]);
  assert.deepEqual(idsOfMessages(bobsThread.messages), [m1.id, m2.id, m3.id, m4.id]);
  assert.deepEqual(adasThread, {
    thread_id: m1.id,
    messages: [senderView(m1), recipientView(m2, 'inbox', 'N'), senderView(m3), recipientView(m4, 'inbox', 'Y')],
  });
  assert.deepEqual(bobsThread, {
    thread_id: m1.id,
    messages: [recipientView(m1, 'inbox', 'N'), senderView(m2), recipientView(m3, 'inbox', 'N'), senderView(m4)],
  });

  // Each message in a thread is exactly what reading it alone answers that user.
  for (const [user, thread] of [
    [ada, adasThread],
    [bob, bobsThread],
  ] as const) {
    for (const message of thread.messages) assert.deepEqual(await readMail(app, user.id, message.id), message);
  }
  // Oldest first also by time.
  const times = adasThread.messages.map((message) => Date.parse(message.created_at ?? ''));
  assert.ok(times.every(Number.isFinite), JSON.stringify(adasThread.messages.map((message) => message.created_at)));
  assert.deepEqual([...times].sort((a, b) => a - b), times);
});

test('a reply to a reply joins the thread of the first message, and only the first message’s id names the thread', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const first = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'Plans', message: 'one' });
  let previous = first;
  const replies: MailboxMessageBody[] = [];
  for (let index = 0; index < 4; index += 1) {
    const from = index % 2 === 0 ? bob : ada;
    previous = await sendMail(app, from.id, { in_reply_to: previous.id, message: `reply ${index}` });
    replies.push(previous);
  }
  assert.deepEqual(
    replies.map((reply) => reply.thread_id),
    replies.map(() => first.id),
  );
  // Another conversation between the same two people is a thread of its own.
  const other = await sendMail(app, bob.id, { to_userid: ada.id, subject: 'Other', message: 'unrelated' });
  assert.equal(other.thread_id, other.id);

  assert.deepEqual(idsOfMessages((await readThread(app, ada.id, first.id)).messages), [first.id, ...idsOfMessages(replies)]);
  assert.deepEqual(idsOfMessages((await readThread(app, ada.id, other.id)).messages), [other.id]);
  // A reply's own id is not a thread.
  assertDetail(await app.inject({ method: 'GET', url: `/users/${ada.id}/threads/${replies[1]?.id}` }), 404, 'Thread not found');
});

test('a reply subject is "Re: " + the original, never "Re: Re:", clipped to 500 characters; an explicit subject is kept', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);

  for (const [original, expected] of [
    ['Budget', 'Re: Budget'],
    ['Re: Budget', 'Re: Budget'],
    ['RE: budget', 'RE: budget'],
    ['re: budget', 're: budget'],
    ['Regarding budget', 'Re: Regarding budget'],
    ['x'.repeat(500), `Re: ${'x'.repeat(496)}`],
  ] as const) {
    const message = await sendMail(app, ada.id, { to_userid: bob.id, subject: original, message: 'm' });
    const reply = await sendMail(app, bob.id, { in_reply_to: message.id, message: 'r' });
    assert.equal(reply.subject, expected, `reply to ${JSON.stringify(original.slice(0, 20))}`);
    const again = await sendMail(app, ada.id, { in_reply_to: reply.id, message: 'r2' });
    assert.equal(again.subject, expected, `reply to the reply of ${JSON.stringify(original.slice(0, 20))}`);
  }

  const message = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'Budget', message: 'm' });
  const renamed = await sendMail(app, bob.id, { in_reply_to: message.id, subject: 'Change of plan', message: 'r' });
  assert.equal(renamed.subject, 'Change of plan');
  assert.equal(renamed.thread_id, message.id);
  const afterRename = await sendMail(app, ada.id, { in_reply_to: renamed.id, message: 'r' });
  assert.equal(afterRename.subject, 'Re: Change of plan');
});

test('a reply goes to the other participant by default: from Bob to Ada, and from Ada following up her own message to Bob', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const carol = await createUser(app);
  const first = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'Report', message: 'draft' });

  const followUp = await sendMail(app, ada.id, { in_reply_to: first.id, message: 'forgot the attachment' });
  assert.deepEqual([followUp.from_userid, followUp.to_userid, followUp.to_email], [ada.id, bob.id, bob.email]);
  const answer = await sendMail(app, bob.id, { in_reply_to: followUp.id, message: 'got it' });
  assert.deepEqual([answer.from_userid, answer.to_userid, answer.to_email], [bob.id, ada.id, ada.email]);

  // An explicit recipient on a reply: the message joins the thread; Carol sees only what is in her mailbox.
  const toCarol = await sendMail(app, bob.id, { in_reply_to: answer.id, to_email: carol.email.toUpperCase(), message: 'FYI' });
  assert.deepEqual([toCarol.to_userid, toCarol.thread_id, toCarol.in_reply_to], [carol.id, first.id, answer.id]);
  assert.deepEqual(await readThread(app, carol.id, first.id), { thread_id: first.id, messages: [recipientView(toCarol)] });
  assert.deepEqual(idsOfMessages((await readThread(app, bob.id, first.id)).messages), [first.id, followUp.id, answer.id, toCarol.id]);
  // Ada never received or sent the message to Carol.
  assert.deepEqual(idsOfMessages((await readThread(app, ada.id, first.id)).messages), [first.id, followUp.id, answer.id]);
  assertDetail(await app.inject({ method: 'GET', url: `/users/${ada.id}/messages/${toCarol.id}` }), 404, 'Message not found');
});

test('in_reply_to a message outside the sender’s mailbox (someone else’s, deleted, or none at all) is a 404 Message not found; nothing is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const carol = await createUser(app);
  const private1 = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'private', message: 'for Bob' });
  const gone = await sendMail(app, ada.id, { to_userid: carol.id, subject: 'gone', message: 'for Carol' });
  await app.db.updateTable('messages').set({ folder: 'deleted' }).where('id', '=', gone.id).execute();
  const before = await storedMessageIds(app);

  for (const [sender, payload] of [
    [carol.id, { in_reply_to: private1.id, message: 'butting in' }],
    [carol.id, { in_reply_to: private1.id, to_userid: ada.id, subject: 'hi', message: 'butting in' }],
    [carol.id, { in_reply_to: gone.id, message: 'answering a deleted message' }],
    [ada.id, { in_reply_to: private1.id + 1000, message: 'to nothing' }],
  ] as const) {
    assertDetail(await postMail(app, sender, payload), 404, 'Message not found', JSON.stringify(payload));
  }
  assert.deepEqual(await storedMessageIds(app), before);
  // The sender of the deleted message may still answer it: it is in her sent mail.
  const followUp = await sendMail(app, ada.id, { in_reply_to: gone.id, message: 'resent' });
  assert.equal(followUp.to_userid, carol.id);
});

test('a message to oneself: answered as sent, read and threaded in the recipient’s view, listed in both inbox and sent, replies stay with oneself', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const note = await sendMail(app, ada.id, { to_userid: ada.id, subject: 'Note to self', message: 'buy milk' });
  // The POST answer is the sender's view (spec: "201 MailboxMessage in the sender's view").
  assert.deepEqual([note.from_userid, note.to_userid, note.folder, note.unread, note.from_email, note.to_email], [ada.id, ada.id, 'sent', 'N', ada.email, ada.email]);

  assert.deepEqual(await readMail(app, ada.id, note.id), recipientView(note));
  const reply = await sendMail(app, ada.id, { in_reply_to: note.id, message: 'and eggs' });
  assert.deepEqual([reply.to_userid, reply.subject, reply.thread_id, reply.in_reply_to], [ada.id, 'Re: Note to self', note.id, note.id]);
  assert.deepEqual(await readThread(app, ada.id, note.id), { thread_id: note.id, messages: [recipientView(note), recipientView(reply)] });

  assert.deepEqual((await mailboxMessages(app, ada.id, '?folder=inbox')).messages, [recipientView(reply), recipientView(note)]);
  assert.deepEqual((await mailboxMessages(app, ada.id, '?folder=sent')).messages, [senderView(reply), senderView(note)]);
  assert.deepEqual((await folderCounts(app, ada.id)).at(3), { folder: 'sent', total: 2, unread: 0 });
  assert.deepEqual((await folderCounts(app, ada.id)).at(0), { folder: 'inbox', total: 2, unread: 2 });
});

test('a message Bob moved to trash stays in his thread in folder trash, one in deleted is left out, and a thread with nothing left is not found', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const m1 = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'Weekend', message: 'hike?' });
  const m2 = await sendMail(app, bob.id, { in_reply_to: m1.id, message: 'sure' });
  const m3 = await sendMail(app, ada.id, { in_reply_to: m2.id, message: '8am' });

  assert.equal((await batchUpdate(app, { message_id_list: [m1.id], trash: 'true' })).statusCode, 200);
  assert.equal((await batchUpdate(app, { message_id_list: [m3.id], spam: 'true' })).statusCode, 200);
  assert.deepEqual((await readThread(app, bob.id, m1.id)).messages, [recipientView(m1, 'trash'), senderView(m2), recipientView(m3, 'spam')]);
  // Ada never learns where Bob put them.
  assert.deepEqual((await readThread(app, ada.id, m1.id)).messages, [senderView(m1), recipientView(m2), senderView(m3)]);

  await app.db.updateTable('messages').set({ folder: 'deleted' }).where('id', '=', m3.id).execute();
  assert.deepEqual(idsOfMessages((await readThread(app, bob.id, m1.id)).messages), [m1.id, m2.id]);
  assert.deepEqual(idsOfMessages((await readThread(app, ada.id, m1.id)).messages), [m1.id, m2.id, m3.id]);

  // Carol's one-message thread, deleted by her: nothing of it remains in her mailbox.
  const carol = await createUser(app);
  const lone = await sendMail(app, ada.id, { to_userid: carol.id, subject: 'Lone', message: 'x' });
  await app.db.updateTable('messages').set({ folder: 'deleted' }).where('id', '=', lone.id).execute();
  assertDetail(await app.inject({ method: 'GET', url: `/users/${carol.id}/threads/${lone.id}` }), 404, 'Thread not found');
  assert.deepEqual((await readThread(app, ada.id, lone.id)).messages, [senderView(lone)]);
});

test('an unknown thread or someone else’s thread is a 404 Thread not found; an unknown user a 404 User not found', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const carol = await createUser(app);
  const m1 = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'Ours', message: 'x' });
  await sendMail(app, bob.id, { in_reply_to: m1.id, message: 'y' });

  assertDetail(await app.inject({ method: 'GET', url: `/users/${carol.id}/threads/${m1.id}` }), 404, 'Thread not found', 'someone else’s');
  assertDetail(await app.inject({ method: 'GET', url: `/users/${ada.id}/threads/${m1.id + 1000}` }), 404, 'Thread not found', 'unknown');
  assertDetail(await app.inject({ method: 'GET', url: `/users/424242/threads/${m1.id}` }), 404, 'User not found', 'unknown user');
});

for (const [id, issue] of [
  ['abc', { msg: 'value is not a valid integer', type: 'type_error.integer' }],
  ['9007199254740992', { msg: 'ensure this value is less than or equal to 9007199254740991', type: 'value_error.number.not_le', ctx: { limit_value: 9007199254740991 } }],
] as const) {
  test(`GET /users/{id}/threads/${id}: 422 at ["path","thread_id"]`, async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    assertDetail(await app.inject({ method: 'GET', url: `/users/${ada.id}/threads/${id}` }), 422, [{ loc: ['path', 'thread_id'], ...issue }]);
  });
}

test('a thread longer than 1,000 messages answers its oldest 1,000 with X-Page-Truncated: true', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const ids = await insertMail(app, ada.id, bob.id, 1001);
  const [first] = ids as [number];
  await app.db.updateTable('messages').set({ thread_id: first }).where('id', '>', first).execute();

  const response = await app.inject({ method: 'GET', url: `/users/${bob.id}/threads/${first}` });
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['x-page-truncated'], 'true');
  const thread = response.json<{ thread_id: number; messages: MailboxMessageBody[] }>();
  assert.equal(thread.thread_id, first);
  assert.deepEqual(idsOfMessages(thread.messages), ids.slice(0, 1000));

  // One fewer and the whole thread fits, without the header.
  await app.db.deleteFrom('messages').where('id', '=', ids[1000] ?? 0).execute();
  const whole = await app.inject({ method: 'GET', url: `/users/${bob.id}/threads/${first}` });
  assert.equal(whole.statusCode, 200);
  assert.equal(whole.headers['x-page-truncated'], undefined);
  assert.equal(whole.json<{ messages: unknown[] }>().messages.length, 1000);
});

test('folder=sent lists what the user sent, newest first, in the sender’s view whatever the recipient did; unread=true is empty', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const carol = await createUser(app);
  const toBob = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'to Bob', message: 'x' });
  await sendMail(app, bob.id, { to_userid: ada.id, subject: 'to Ada', message: 'x' });
  const viaCreate = await sendMessage(app, ada.id, carol.id, { subject: 'old endpoint' });
  const toCarol = await sendMail(app, ada.id, { to_email: carol.email, subject: 'to Carol', message: 'x' });
  assert.equal((await batchUpdate(app, { message_id_list: [toBob.id], spam: 'true', read: 'true' })).statusCode, 200);
  assert.equal((await batchUpdate(app, { message_id_list: [toCarol.id], trash: 'true' })).statusCode, 200);

  const sent = await mailboxMessages(app, ada.id, '?folder=sent');
  assert.equal(sent.next_cursor, null);
  assert.deepEqual(idsOfMessages(sent.messages), [toCarol.id, viaCreate.id, toBob.id]);
  assert.deepEqual(sent.messages[0], senderView(toCarol));
  assert.deepEqual(sent.messages[2], senderView(toBob));
  assert.deepEqual(sent.messages[1], await readMail(app, ada.id, viaCreate.id));
  for (const message of sent.messages) assert.deepEqual([message.from_userid, message.folder, message.unread], [ada.id, 'sent', 'N']);

  assert.deepEqual(await mailboxMessages(app, ada.id, '?folder=sent&unread=true'), { messages: [], next_cursor: null });
  assert.deepEqual(idsOfMessages((await mailboxMessages(app, ada.id, '?folder=sent&unread=false')).messages), [toCarol.id, viaCreate.id, toBob.id]);
  // Bob's sent view is his own.
  assert.equal((await mailboxMessages(app, bob.id, '?folder=sent')).messages.length, 1);
});

test('folder=sent pages over 105 sent messages with the cursor, without a gap or a repeat, while received mail stays out', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const carol = await createUser(app);
  const sentIds: number[] = [];
  for (let round = 0; round < 3; round += 1) {
    sentIds.push(...(await insertMail(app, ada.id, bob.id, 20)));
    await insertMail(app, bob.id, ada.id, 10);
    sentIds.push(...(await insertMail(app, ada.id, carol.id, 15, { folder: round === 1 ? 'spam' : 'inbox', unread: 'N' })));
  }
  await insertMail(app, carol.id, bob.id, 30);
  assert.equal(sentIds.length, 105);
  const newestFirst = [...sentIds].sort((a, b) => b - a);

  for (const [query, pageSizes] of [
    ['?folder=sent', [50, 50, 5]],
    ['?folder=sent&limit=35', [35, 35, 35]],
    ['?folder=sent&unread=false&limit=104', [104, 1]],
  ] as const) {
    const seen: number[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page: MailboxMessagesPage = await mailboxMessages(app, ada.id, `${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      sizes.push(page.messages.length);
      seen.push(...idsOfMessages(page.messages));
      for (const message of page.messages) {
        assert.deepEqual([message.from_userid, message.folder, message.unread, message.thread_id, message.from_email], [ada.id, 'sent', 'N', message.id, ada.email]);
      }
      cursor = page.next_cursor;
    } while (cursor !== null);
    assert.deepEqual(sizes, [...pageSizes], query);
    assert.deepEqual(seen, newestFirst, `${query}: every sent message once, newest first`);
  }
  assert.deepEqual(await mailboxMessages(app, ada.id, '?folder=sent&unread=true'), { messages: [], next_cursor: null });
});

test('GET /users/{id}/folders counts sent mail as a fourth entry, total sent and unread 0', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const sent = [];
  for (let index = 0; index < 3; index += 1) sent.push(await sendMail(app, ada.id, { to_userid: bob.id, subject: `#${index}`, message: 'x' }));
  await sendMessage(app, ada.id, bob.id);
  const toAda = await sendMail(app, bob.id, { to_userid: ada.id, subject: 'back', message: 'x' });
  await sendMail(app, bob.id, { in_reply_to: sent[0]?.id, message: 'reply' });
  assert.equal((await batchUpdate(app, { message_id_list: [toAda.id], read: 'true' })).statusCode, 200);
  assert.equal((await batchUpdate(app, { message_id_list: [sent[1]?.id], spam: 'true' })).statusCode, 200);

  const response = await app.inject({ method: 'GET', url: `/users/${ada.id}/folders` });
  assert.equal(response.statusCode, 200);
  assert.equal(
    response.body,
    '[{"folder":"inbox","total":2,"unread":1},{"folder":"trash","total":0,"unread":0},{"folder":"spam","total":0,"unread":0},{"folder":"sent","total":4,"unread":0}]',
  );
  assert.deepEqual(await folderCounts(app, bob.id), [
    { folder: 'inbox', total: 3, unread: 3 },
    { folder: 'trash', total: 0, unread: 0 },
    { folder: 'spam', total: 1, unread: 1 },
    { folder: 'sent', total: 2, unread: 0 },
  ]);
  const carol = await createUser(app);
  assert.deepEqual((await folderCounts(app, carol.id)).at(3), { folder: 'sent', total: 0, unread: 0 });
});
