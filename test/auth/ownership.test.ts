/**
 * Ownership with a known caller, in AUTH_MODE=optional and =required alike: two users try to read,
 * send as, move and report each other's mail, and to write or read each other's items. Every attempt
 * is refused or skipped, nothing changes in the database and no spam counter moves.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildTestApp } from '../helpers/build-test-app.js';
import type { MessageBody, UserBody } from '../helpers/factories.js';
import { type Account, account, AUTHED_MODES, authEnv, sendAs, storedState } from './auth-support.js';

const counter = (redis: Redis, userId: number) => redis.get(`msg:spam-reports:uid:${userId}`);

/** Ada and Bob, each with mail from the other and from Carol, and an item of their own. */
async function twoUsers(app: FastifyInstance) {
  const ada = await account(app);
  const bob = await account(app);
  const carol = await account(app);
  const toAda = await sendAs(app, bob, ada.user.id, 'bob to ada');
  const carolToAda = await sendAs(app, carol, ada.user.id, 'carol to ada');
  const toBob = await sendAs(app, ada, bob.user.id, 'ada to bob');
  const carolToBob = await sendAs(app, carol, bob.user.id, 'carol to bob');
  for (const owner of [ada, bob]) {
    const response = await app.inject({
      method: 'POST',
      url: `/users/${owner.user.id}/items/`,
      headers: owner.headers,
      payload: { title: `${owner.user.email}'s diary` },
    });
    assert.equal(response.statusCode, 200, response.body);
  }
  return { ada, bob, carol, toAda, carolToAda, toBob, carolToBob };
}

function listAs(app: FastifyInstance, caller: Account) {
  return app.inject({ method: 'GET', url: '/msg/list/', headers: caller.headers });
}

function batchAs(app: FastifyInstance, caller: Account, payload: Record<string, unknown>) {
  return app.inject({ method: 'PUT', url: '/msg/list/', headers: caller.headers, payload });
}

for (const mode of AUTHED_MODES) {
  describe(`AUTH_MODE=${mode}: a caller acts only on their own mail and items`, () => {
    test('each user lists only the messages addressed to them', async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const { ada, bob, toAda, carolToAda, toBob, carolToBob } = await twoUsers(app);
      const adaList = (await listAs(app, ada)).json<MessageBody[]>();
      const bobList = (await listAs(app, bob)).json<MessageBody[]>();
      assert.deepEqual(adaList.map((message) => message.id), [toAda.id, carolToAda.id]);
      assert.deepEqual(bobList.map((message) => message.id), [toBob.id, carolToBob.id]);
    });

    test('sending as someone else is 403 {"detail":"Not allowed"} and stores nothing', async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const { ada, bob } = await twoUsers(app);
      const before = await storedState(app);
      const response = await app.inject({
        method: 'POST',
        url: '/msg/create/',
        headers: bob.headers,
        payload: { from_userid: ada.user.id, to_userid: bob.user.id, subject: 'forged', message: 'as ada' },
      });
      assert.equal(response.statusCode, 403);
      assert.deepEqual(response.json(), { detail: 'Not allowed' });
      assert.deepEqual(await storedState(app), before);
    });

    test("moving, marking or reporting the other's mail is skipped: Success, nothing changed, no counter moved", async (t) => {
      const { app, redis } = await buildTestApp(t, authEnv(mode));
      const { ada, bob, carol, toAda, carolToAda, toBob } = await twoUsers(app);
      const before = await storedState(app);
      // Bob goes after Ada's inbox (from himself and from Carol); Ada after the message she sent Bob.
      const attempts: [Account, number[]][] = [
        [bob, [toAda.id, carolToAda.id]],
        [ada, [toBob.id]],
      ];
      for (const [caller, ids] of attempts) {
        for (const flags of [{ spam: 'true' }, { trash: 'true' }, { read: 'true' }, { spam: true, trash: true, read: true }]) {
          const response = await batchAs(app, caller, { message_id_list: ids, ...flags });
          assert.equal(response.statusCode, 200, response.body);
          assert.deepEqual(response.json(), { msg: 'Success' });
        }
      }
      assert.deepEqual(await storedState(app), before);
      for (const user of [ada.user, bob.user, carol.user]) assert.equal(await counter(redis, user.id), null);
    });

    test('a mixed batch changes only the caller\'s own messages, and only a real recipient\'s report counts', async (t) => {
      const { app, redis } = await buildTestApp(t, authEnv(mode));
      const { ada, bob, carol, toAda, carolToAda, toBob, carolToBob } = await twoUsers(app);
      const response = await batchAs(app, bob, { message_id_list: [toAda.id, carolToAda.id, toBob.id, carolToBob.id], spam: 'true' });
      assert.equal(response.statusCode, 200);
      const folders = await app.db.selectFrom('messages').select(['id', 'folder']).orderBy('id').execute();
      assert.deepEqual(
        Object.fromEntries(folders.map((row) => [row.id, row.folder])),
        { [toAda.id]: 'inbox', [carolToAda.id]: 'inbox', [toBob.id]: 'spam', [carolToBob.id]: 'spam' },
      );
      // Bob received mail from Ada and Carol: each of them now has exactly one reporter; Bob has none.
      assert.equal(await counter(redis, ada.user.id), '1');
      assert.equal(await counter(redis, carol.user.id), '1');
      assert.equal(await counter(redis, bob.user.id), null);
    });

    test("creating an item for someone else is 403 and stores nothing", async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const { ada, bob } = await twoUsers(app);
      const before = await storedState(app);
      const response = await app.inject({ method: 'POST', url: `/users/${ada.user.id}/items/`, headers: bob.headers, payload: { title: 'planted' } });
      assert.equal(response.statusCode, 403);
      assert.deepEqual(response.json(), { detail: 'Not allowed' });
      assert.deepEqual(await storedState(app), before);
    });

    test("other users' items are private: email, id and is_active stay visible, items are []", async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const { ada, bob } = await twoUsers(app);
      const adaAsBob = (await app.inject({ method: 'GET', url: `/users/${ada.user.id}`, headers: bob.headers })).json<UserBody>();
      assert.deepEqual(adaAsBob, { email: ada.user.email, id: ada.user.id, is_active: true, items: [] });
      const bobAsBob = (await app.inject({ method: 'GET', url: `/users/${bob.user.id}`, headers: bob.headers })).json<UserBody>();
      assert.equal(bobAsBob.items.length, 1);

      const list = (await app.inject({ method: 'GET', url: '/users/', headers: bob.headers })).json<UserBody[]>();
      for (const user of list) assert.equal(user.items.length, user.id === bob.user.id ? 1 : 0, user.email);
      const items = (await app.inject({ method: 'GET', url: '/items/', headers: bob.headers })).json<{ owner_id: number }[]>();
      assert.deepEqual(items.map((item) => item.owner_id), [bob.user.id]);
    });
  });
}

describe('AUTH_MODE=optional: a request without a token behaves as AUTH_MODE=off', () => {
  test('anonymous callers list, send, move and see items as the original allowed', async (t) => {
    const { app } = await buildTestApp(t, authEnv('optional'));
    const { ada, bob, toAda } = await twoUsers(app);
    const list = await app.inject({ method: 'GET', url: '/msg/list/' });
    assert.equal(list.json<MessageBody[]>().length, 4);
    const sent = await app.inject({
      method: 'POST',
      url: '/msg/create/',
      payload: { from_userid: ada.user.id, to_userid: bob.user.id, subject: 'anonymous', message: 'as before' },
    });
    assert.equal(sent.statusCode, 200);
    const moved = await app.inject({ method: 'PUT', url: '/msg/list/', payload: { message_id_list: [toAda.id], trash: 'true' } });
    assert.equal(moved.statusCode, 200);
    const [row] = await app.db.selectFrom('messages').select('folder').where('id', '=', toAda.id).execute();
    assert.equal(row?.folder, 'trash');
    const users = (await app.inject({ method: 'GET', url: '/users/' })).json<UserBody[]>();
    assert.deepEqual(users.map((user) => user.items.length), [1, 1, 0]);
  });
});

describe('AUTH_MODE=required: no token, no access', () => {
  test('every protected route answers 401 Not authenticated with WWW-Authenticate: Bearer, and nothing changes', async (t) => {
    const { app, redis } = await buildTestApp(t, authEnv('required'));
    const { ada, bob, toAda } = await twoUsers(app);
    const before = await storedState(app);
    const requests = [
      { method: 'GET', url: '/msg/list/' },
      { method: 'POST', url: '/msg/create/', payload: { from_userid: ada.user.id, to_userid: bob.user.id, subject: 's', message: 'm' } },
      { method: 'PUT', url: '/msg/list/', payload: { message_id_list: [toAda.id], spam: 'true' } },
      { method: 'GET', url: '/users/' },
      { method: 'GET', url: `/users/${ada.user.id}` },
      { method: 'POST', url: `/users/${ada.user.id}/items/`, payload: { title: 'x' } },
      { method: 'GET', url: '/items/' },
      // Authentication comes before validation: a malformed request without a token is still a 401.
      { method: 'PUT', url: '/msg/list/', payload: { message_id_list: [] } },
    ] as const;
    for (const request of requests) {
      const response = await app.inject(request);
      assert.equal(response.statusCode, 401, `${request.method} ${request.url}: ${response.body}`);
      assert.deepEqual(response.json(), { detail: 'Not authenticated' });
      assert.equal(response.headers['www-authenticate'], 'Bearer');
    }
    assert.deepEqual(await storedState(app), before);
    assert.equal(await counter(redis, bob.user.id), null);
  });

  test('GET /, sign-up and login stay public; unknown routes still answer 404 and 405', async (t) => {
    const { app } = await buildTestApp(t, authEnv('required'));
    assert.deepEqual((await app.inject({ method: 'GET', url: '/' })).json(), { Hello: 'World' });
    await account(app); // sign-up and login without a token
    const unknown = await app.inject({ method: 'GET', url: '/nowhere' });
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), { detail: 'Not Found' });
    const wrongMethod = await app.inject({ method: 'DELETE', url: '/msg/list/' });
    assert.equal(wrongMethod.statusCode, 405);
  });
});
