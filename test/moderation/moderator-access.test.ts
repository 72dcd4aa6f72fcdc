/** With a known caller, the moderation views need a moderator: an email listed in MODERATOR_EMAILS. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessage } from '../helpers/factories.js';
import { uniqueName } from '../helpers/services.js';
import { account, AUTHED_MODES, assertNotAuthenticated, authEnv, bearer, login } from '../auth/auth-support.js';
import { ConfigError, loadConfig } from '../../src/config.js';

for (const mode of AUTHED_MODES) {
  describe(`AUTH_MODE=${mode}`, () => {
    test('a moderator (listed in any letter case) reads both views; any other user gets 403', async (t) => {
      const moderatorEmail = `${uniqueName('mod')}@example.com`;
      const { app } = await buildTestApp(t, authEnv(mode, { MODERATOR_EMAILS: ` someone@example.com , ${moderatorEmail.toUpperCase()}` }));
      const moderator = await createUser(app, moderatorEmail);
      const moderatorHeaders = bearer(await login(app, moderatorEmail));
      const member = await account(app);

      const spam = await app.inject({
        method: 'POST',
        url: '/msg/create/',
        headers: moderatorHeaders,
        payload: { from_userid: moderator.id, to_userid: member.user.id, subject: 'buy', message: 'now' },
      });
      assert.equal(spam.statusCode, 200, spam.body);
      const reported = await app.inject({
        method: 'PUT',
        url: '/msg/list/',
        headers: member.headers,
        payload: { message_id_list: [spam.json().id], spam: 'true' },
      });
      assert.equal(reported.statusCode, 200, reported.body);

      const asModerator = await app.inject({ method: 'GET', url: `/users/${moderator.id}/spam-reports`, headers: moderatorHeaders });
      assert.equal(asModerator.statusCode, 200, asModerator.body);
      assert.deepEqual(asModerator.json(), { user_id: moderator.id, reported_by: 1 });
      const ranking = await app.inject({ method: 'GET', url: '/spam/senders', headers: moderatorHeaders });
      assert.equal(ranking.statusCode, 200, ranking.body);
      assert.deepEqual(ranking.json(), [{ user_id: moderator.id, reported_by: 1 }]);
      const unknown = await app.inject({ method: 'GET', url: '/users/424242/spam-reports', headers: moderatorHeaders });
      assert.equal(unknown.statusCode, 404, unknown.body);

      for (const url of [`/users/${moderator.id}/spam-reports`, `/users/${member.user.id}/spam-reports`, '/users/424242/spam-reports', '/spam/senders']) {
        const response = await app.inject({ method: 'GET', url, headers: member.headers });
        assert.equal(response.statusCode, 403, `${url}: ${response.body}`);
        assert.equal(response.body, '{"detail":"Not allowed"}');
      }
    });
  });
}

test('AUTH_MODE=required: without a token the moderation views are 401', async (t) => {
  const { app } = await buildTestApp(t, authEnv('required', { MODERATOR_EMAILS: 'mod@example.com' }));
  assertNotAuthenticated(await app.inject({ method: 'GET', url: '/users/1/spam-reports' }));
  assertNotAuthenticated(await app.inject({ method: 'GET', url: '/spam/senders' }));
});

// One app per test: two PostgreSQL test schemas alive at once confuse Kysely's migrator (it looks for
// its tables in every schema), so each anonymous mode gets a test of its own.
for (const [label, env] of [
  ['AUTH_MODE=off', authEnv('off')],
  ['AUTH_MODE=optional without a token', authEnv('optional', { MODERATOR_EMAILS: 'mod@example.com' })],
] as const) {
  test(`${label}: anonymous callers read the moderation views as every other route`, async (t) => {
    const { app } = await buildTestApp(t, env);
    const ada = await createUser(app);
    const bob = await createUser(app);
    const message = await sendMessage(app, ada.id, bob.id);
    assert.equal((await batchUpdate(app, { message_id_list: [message.id], spam: 'true' })).statusCode, 200);
    const count = await app.inject({ method: 'GET', url: `/users/${ada.id}/spam-reports` });
    assert.deepEqual([count.statusCode, count.json()], [200, { user_id: ada.id, reported_by: 1 }]);
    const ranking = await app.inject({ method: 'GET', url: '/spam/senders' });
    assert.deepEqual([ranking.statusCode, ranking.json()], [200, [{ user_id: ada.id, reported_by: 1 }]]);
  });
}

test('MODERATOR_EMAILS is read once: trimmed, lower-cased, duplicates dropped; a non-address stops the start', () => {
  assert.deepEqual(loadConfig({}).moderatorEmails, []);
  assert.deepEqual(loadConfig({ MODERATOR_EMAILS: ' Ada@Example.com,bob@example.com,, ada@example.com ' }).moderatorEmails, [
    'ada@example.com',
    'bob@example.com',
  ]);
  assert.throws(() => loadConfig({ MODERATOR_EMAILS: 'ada@example.com,not-an-address' }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /MODERATOR_EMAILS/);
    return true;
  });
});
