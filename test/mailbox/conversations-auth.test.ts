/**
 * Ownership of the conversation endpoints: with a known caller (a token), reading one message, a
 * thread, the sent view, a search, and sending are only for oneself (403 otherwise); without a token,
 * AUTH_MODE=required answers 401. The sender of POST /users/{id}/messages is always the path's user.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { account, AUTHED_MODES, assertNotAuthenticated, authEnv, storedState } from '../auth/auth-support.js';
import { createUser } from '../helpers/factories.js';
import { assertDetail, mailboxMessages, readMail, readThread, sendMail } from './mailbox-support.js';

type Request = { method: 'GET' | 'POST'; url: string; payload?: Record<string, unknown> };

/** Every new endpoint, as user `userId` would call it about message `messageId` (to `otherId`). */
function conversationRequests(userId: number | string, messageId: number, otherId: number): Request[] {
  return [
    { method: 'GET', url: `/users/${userId}/messages/${messageId}` },
    { method: 'GET', url: `/users/${userId}/threads/${messageId}` },
    { method: 'POST', url: `/users/${userId}/messages`, payload: { to_userid: otherId, subject: 'as someone else', message: 'x' } },
    { method: 'POST', url: `/users/${userId}/messages`, payload: { in_reply_to: messageId, message: 'x' } },
    { method: 'GET', url: `/users/${userId}/messages?folder=sent` },
    { method: 'GET', url: `/users/${userId}/messages?q=hello` },
    { method: 'GET', url: `/users/${userId}/messages?q=hello&folder=sent&unread=false&limit=5` },
  ];
}

function call(app: FastifyInstance, request: Request, headers: Record<string, string> = {}) {
  return app.inject({ ...request, headers });
}

for (const mode of AUTHED_MODES) {
  describe(`AUTH_MODE=${mode}: the conversation endpoints are only for oneself`, () => {
    test("another user's id, known or not, is a 403 {\"detail\":\"Not allowed\"} on every new endpoint, and nothing changes", async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const ada = await account(app);
      const bob = await account(app);
      const toBob = await sendMail(app, ada.user.id, { to_userid: bob.user.id, subject: 'hello Bob', message: 'hi' }, ada.headers);
      const before = await storedState(app);

      for (const userId of [bob.user.id, 424242]) {
        for (const request of conversationRequests(userId, toBob.id, ada.user.id)) {
          const response = await call(app, request, ada.headers);
          assertDetail(response, 403, 'Not allowed', `${request.method} ${request.url} ${JSON.stringify(request.payload ?? '')}`);
        }
      }
      assert.deepEqual(await storedState(app), before);
    });

    test('as oneself every new endpoint works, each in the caller’s view', async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const ada = await account(app);
      const bob = await account(app);
      const toBob = await sendMail(app, ada.user.id, { to_userid: bob.user.id, subject: 'hello Bob', message: 'hi' }, ada.headers);
      assert.deepEqual([toBob.from_userid, toBob.to_userid, toBob.folder, toBob.unread], [ada.user.id, bob.user.id, 'sent', 'N']);

      // Bob reads it, reports it as spam with his own token, and answers it.
      assert.deepEqual(await readMail(app, bob.user.id, toBob.id, bob.headers), { ...toBob, folder: 'inbox', unread: 'Y' });
      const report = await app.inject({ method: 'PUT', url: '/msg/list/', headers: bob.headers, payload: { message_id_list: [toBob.id], spam: 'true' } });
      assert.equal(report.statusCode, 200, report.body);
      const reply = await sendMail(app, bob.user.id, { in_reply_to: toBob.id, message: 'who is this?' }, bob.headers);
      assert.deepEqual([reply.from_userid, reply.to_userid, reply.thread_id, reply.subject], [bob.user.id, ada.user.id, toBob.id, 'Re: hello Bob']);

      assert.deepEqual(await readThread(app, bob.user.id, toBob.id, bob.headers), {
        thread_id: toBob.id,
        messages: [{ ...toBob, folder: 'spam', unread: 'Y' }, reply],
      });
      assert.deepEqual(await readThread(app, ada.user.id, toBob.id, ada.headers), {
        thread_id: toBob.id,
        messages: [toBob, { ...reply, folder: 'inbox', unread: 'Y' }],
      });
      assert.deepEqual(await readMail(app, ada.user.id, toBob.id, ada.headers), toBob);
      assert.deepEqual((await mailboxMessages(app, ada.user.id, '?folder=sent', ada.headers)).messages, [toBob]);
      assert.deepEqual((await mailboxMessages(app, bob.user.id, '?folder=sent', bob.headers)).messages, [reply]);
      assert.deepEqual((await mailboxMessages(app, ada.user.id, '?q=hello', ada.headers)).messages, [{ ...reply, folder: 'inbox', unread: 'Y' }]);
      assert.deepEqual((await mailboxMessages(app, bob.user.id, '?q=hello&folder=spam', bob.headers)).messages, [{ ...toBob, folder: 'spam', unread: 'Y' }]);
    });
  });
}

for (const mode of ['off', ...AUTHED_MODES] as const) {
  test(`AUTH_MODE=${mode}: POST /users/{id}/messages sends as the path's user, whatever from_userid the body carries`, async (t) => {
    const { app } = await buildTestApp(t, authEnv(mode));
    const ada = mode === 'off' ? { user: await createUser(app), headers: {} } : await account(app);
    const bob = mode === 'off' ? { user: await createUser(app), headers: {} } : await account(app);

    const sent = await sendMail(app, ada.user.id, { from_userid: bob.user.id, to_userid: bob.user.id, subject: 'from Ada', message: 'really' }, ada.headers);
    assert.deepEqual([sent.from_userid, sent.from_email, sent.to_userid], [ada.user.id, ada.user.email, bob.user.id]);
    const stored = await app.db.selectFrom('messages').select(['from_userid', 'to_userid']).where('id', '=', sent.id).executeTakeFirst();
    assert.deepEqual(stored, { from_userid: ada.user.id, to_userid: bob.user.id });
  });
}

test('AUTH_MODE=required: without a token every new endpoint is 401 Not authenticated, and nothing is stored', async (t) => {
  const { app } = await buildTestApp(t, authEnv('required'));
  const ada = await account(app);
  const bob = await account(app);
  const toBob = await sendMail(app, ada.user.id, { to_userid: bob.user.id, subject: 'hello Bob', message: 'hi' }, ada.headers);
  const before = await storedState(app);

  for (const userId of [bob.user.id, ada.user.id, 424242]) {
    for (const request of conversationRequests(userId, toBob.id, ada.user.id)) assertNotAuthenticated(await call(app, request));
  }
  // A token that is not a valid one is no better.
  for (const request of conversationRequests(bob.user.id, toBob.id, ada.user.id)) {
    assertNotAuthenticated(await call(app, request, { authorization: 'Bearer not-a-token' }));
  }
  assert.deepEqual(await storedState(app), before);
});

test('AUTH_MODE=optional without a token: the new endpoints answer anyone, as with AUTH_MODE=off', async (t) => {
  const { app } = await buildTestApp(t, authEnv('optional'));
  const ada = await account(app);
  const bob = await account(app);
  const toBob = await sendMail(app, ada.user.id, { to_userid: bob.user.id, subject: 'hello Bob', message: 'hi' });
  assert.equal(toBob.from_userid, ada.user.id);
  assert.deepEqual(await readMail(app, bob.user.id, toBob.id), { ...toBob, folder: 'inbox', unread: 'Y' });
  assert.deepEqual((await readThread(app, ada.user.id, toBob.id)).messages, [toBob]);
  assert.deepEqual((await mailboxMessages(app, ada.user.id, '?folder=sent&q=hel')).messages, [toBob]);
});
