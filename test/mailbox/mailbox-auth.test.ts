/** With a known caller, a mailbox answers only its owner; without one, every mode behaves as before. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';
import { account, AUTHED_MODES, assertNotAuthenticated, authEnv, sendAs, storedState } from '../auth/auth-support.js';
import { folderCounts, idsOf, mailboxPage } from './mailbox-support.js';

for (const mode of AUTHED_MODES) {
  describe(`AUTH_MODE=${mode}: a caller reads only their own mailbox`, () => {
    test("the owner reads their mailbox and folders; another user's token gets 403 {\"detail\":\"Not allowed\"}", async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const ada = await account(app);
      const bob = await account(app);
      const toBob = await sendAs(app, ada, bob.user.id, 'for bob');
      await sendAs(app, bob, ada.user.id, 'for ada');
      const before = await storedState(app);

      assert.deepEqual(idsOf(await mailboxPage(app, bob.user.id, '', bob.headers)), [toBob.id]);
      assert.deepEqual((await folderCounts(app, bob.user.id, bob.headers))[0], { folder: 'inbox', total: 1, unread: 1 });

      // Another user's mailbox, and even an unknown user's: 403 before anything is looked up.
      for (const url of [
        `/users/${bob.user.id}/messages`,
        `/users/${bob.user.id}/messages?folder=inbox&unread=true&limit=5`,
        `/users/${bob.user.id}/folders`,
        '/users/424242/messages',
        '/users/424242/folders',
      ]) {
        const response = await app.inject({ method: 'GET', url, headers: ada.headers });
        assert.equal(response.statusCode, 403, `${url}: ${response.body}`);
        assert.equal(response.body, '{"detail":"Not allowed"}');
      }
      assert.deepEqual(await storedState(app), before);
    });
  });
}

test('AUTH_MODE=required: without a token both views are 401 Not authenticated', async (t) => {
  const { app } = await buildTestApp(t, authEnv('required'));
  const ada = await account(app);
  for (const url of [`/users/${ada.user.id}/messages`, `/users/${ada.user.id}/folders`]) {
    assertNotAuthenticated(await app.inject({ method: 'GET', url }));
  }
});

test('AUTH_MODE=optional without a token: any mailbox is readable, as with AUTH_MODE=off', async (t) => {
  const { app } = await buildTestApp(t, authEnv('optional'));
  const ada = await account(app);
  const bob = await account(app);
  const toBob = await sendAs(app, ada, bob.user.id);
  assert.deepEqual(idsOf(await mailboxPage(app, bob.user.id)), [toBob.id]);
  assert.deepEqual((await folderCounts(app, bob.user.id))[0], { folder: 'inbox', total: 1, unread: 1 });
});
