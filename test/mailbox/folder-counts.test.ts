/** GET /users/{id}/folders: total and unread per folder, following every batch update. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { sql } from 'kysely';
import { buildTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessages } from '../helpers/factories.js';
import { SQLITE_PASS_ONLY, tempDatabaseUrl, testDatabaseUrl } from '../helpers/services.js';
import { rebuildMailboxCounts } from '../../src/modules/mailbox/mailbox-changes.repository.js';

const run = promisify(execFile);
import { folderCounts, insertMail } from './mailbox-support.js';

const counts = (inbox: [number, number], trash: [number, number], spam: [number, number], sent = 0) => [
  { folder: 'inbox', total: inbox[0], unread: inbox[1] },
  { folder: 'trash', total: trash[0], unread: trash[1] },
  { folder: 'spam', total: spam[0], unread: spam[1] },
  { folder: 'sent', total: sent, unread: 0 },
];

test('a user without mail has the four folders, all zero', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const response = await app.inject({ method: 'GET', url: `/users/${ada.id}/folders` });
  assert.equal(response.statusCode, 200);
  assert.equal(
    response.body,
    '[{"folder":"inbox","total":0,"unread":0},{"folder":"trash","total":0,"unread":0},{"folder":"spam","total":0,"unread":0},{"folder":"sent","total":0,"unread":0}]',
  );
});

test('counts follow read, trash, restore, spam and not-spam changes made through PUT /msg/list/', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const [m1, m2, m3, m4, m5] = (await sendMessages(app, ada.id, bob.id, 5)) as [number, number, number, number, number];
  await sendMessages(app, bob.id, ada.id, 2); // Ada's mail does not count for Bob
  assert.deepEqual(await folderCounts(app, bob.id), counts([5, 5], [0, 0], [0, 0], 2));

  const steps: [Record<string, unknown>, ReturnType<typeof counts>][] = [
    [{ message_id_list: [m1, m2], read: 'true' }, counts([5, 3], [0, 0], [0, 0])],
    [{ message_id_list: [m2, m3], trash: 'true' }, counts([3, 2], [2, 1], [0, 0])],
    [{ message_id_list: [m4], spam: 'true' }, counts([2, 1], [2, 1], [1, 1])],
    [{ message_id_list: [m3], trash: 'false', read: true }, counts([3, 1], [1, 0], [1, 1])],
    [{ message_id_list: [m5, m2], spam: 'true' }, counts([2, 0], [0, 0], [3, 2])],
    [{ message_id_list: [m4], spam: 'false', read: 'true' }, counts([3, 0], [0, 0], [2, 1])],
    [{ message_id_list: [m1, m2, m3, m4, m5], read: 'false' }, counts([3, 3], [0, 0], [2, 2])],
  ];
  for (const [payload, expected] of steps) {
    const response = await batchUpdate(app, payload);
    assert.equal(response.statusCode, 200, response.body);
    // Bob's two sent messages count in his sent folder whatever happens to Ada's copies.
    assert.deepEqual(await folderCounts(app, bob.id), expected.map((row) => (row.folder === 'sent' ? { ...row, total: 2 } : row)), JSON.stringify(payload));
  }
  assert.deepEqual(await folderCounts(app, ada.id), counts([2, 2], [0, 0], [0, 0], 5));
});

test('rows written straight into the database (not through the service) are counted after a rebuild, which matches the stored rows; the old sent and deleted folders are not received mail', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  await insertMail(app, ada.id, bob.id, 300, { folder: 'inbox', unread: 'Y' });
  await insertMail(app, ada.id, bob.id, 120, { folder: 'inbox', unread: 'N' });
  await insertMail(app, ada.id, bob.id, 45, { folder: 'trash', unread: 'N' });
  await insertMail(app, ada.id, bob.id, 7, { folder: 'spam', unread: 'Y' });
  await insertMail(app, ada.id, bob.id, 9, { folder: 'deleted', unread: 'Y' });
  await insertMail(app, ada.id, bob.id, 4, { folder: 'sent', unread: 'N' });
  // The service keeps counts for the writes it makes; rows added by hand are not among them until a rebuild.
  assert.deepEqual(await folderCounts(app, bob.id), counts([0, 0], [0, 0], [0, 0]));
  await rebuildMailboxCounts(app.db);
  assert.deepEqual(await folderCounts(app, bob.id), counts([420, 300], [45, 0], [7, 7]));
  // Ada sent all 485 of them, whatever folder Bob's copy is in.
  assert.deepEqual(await folderCounts(app, ada.id), counts([0, 0], [0, 0], [0, 0], 485));
});

test('unknown user: 404; a user id that is not an integer: 422 at ["path","user_id"]', async (t) => {
  const { app } = await buildTestApp(t);
  const missing = await app.inject({ method: 'GET', url: '/users/424242/folders' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.body, '{"detail":"User not found"}');
  const bad = await app.inject({ method: 'GET', url: '/users/x/folders' });
  assert.equal(bad.statusCode, 422);
  assert.equal(bad.body, '{"detail":[{"loc":["path","user_id"],"msg":"value is not a valid integer","type":"type_error.integer"}]}');
});

test('the mailbox indexes exist, and on SQLite both views are answered from an index without sorting', async (t) => {
  const { app } = await buildTestApp(t);
  const indexes = testDatabaseUrl()
    ? await sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema() and tablename = 'messages'`.execute(app.db)
    : await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'messages'`.execute(app.db);
  const names = indexes.rows.map((row) => row.name);
  for (const name of ['messages_recipient_id', 'messages_recipient_folder', 'messages_recipient_folder_unread']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
  if (testDatabaseUrl()) return;
  const plan = async (query: ReturnType<typeof sql>) =>
    (await sql<{ detail: string }>`explain query plan ${query}`.execute(app.db)).rows.map((row) => row.detail).join(' | ');
  const listing = await plan(sql`select * from messages where to_userid = 1 and id < 500 order by id desc limit 51`);
  assert.match(listing, /USING (COVERING )?INDEX messages_recipient_id/);
  assert.doesNotMatch(listing, /TEMP B-TREE/);
  const filtered = await plan(sql`select * from messages where to_userid = 1 and folder = 'inbox' and unread = 'Y' order by id desc limit 51`);
  assert.match(filtered, /USING (COVERING )?INDEX messages_recipient_folder_unread/);
  assert.doesNotMatch(filtered, /TEMP B-TREE/);
  const folders = await plan(
    sql`select folder, count(*), coalesce(sum(case when unread = 'Y' then 1 else 0 end), 0) from messages where to_userid = 1 and folder in ('inbox','trash','spam') group by folder`,
  );
  assert.match(folders, /USING COVERING INDEX messages_recipient_folder_unread/);
});

test('kept counts are exact under concurrency: after hundreds of racing sends and batch updates, they equal a recount of the messages', async (t) => {
  const { app } = await buildTestApp(t);
  const users = [await createUser(app), await createUser(app), await createUser(app)];
  const ids = users.map((user) => user.id);
  let seed = 14;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % below;
  };
  const pick = <T>(items: readonly T[]): T => items[random(items.length)] as T;
  const sent: number[] = [];
  const send = async () => {
    const [from, to] = [pick(ids), pick(ids)];
    const response =
      random(2) === 0
        ? await app.inject({ method: 'POST', url: '/msg/create/', payload: { from_userid: from, to_userid: to, subject: 's', message: 'm' } })
        : await app.inject({ method: 'POST', url: `/users/${from}/messages`, payload: { to_userid: to, subject: 's', message: 'm' } });
    assert.ok(response.statusCode === 200 || response.statusCode === 201, response.body);
    sent.push(response.json<{ id: number }>().id);
  };
  const flags = [{ read: true }, { read: false }, { trash: true }, { trash: false }, { spam: true }, { spam: false }, { read: true, trash: true }];
  const update = async () => {
    if (sent.length === 0) return send();
    const list = Array.from({ length: 1 + random(10) }, () => pick(sent));
    const response = await batchUpdate(app, { message_id_list: list, ...pick(flags) });
    assert.equal(response.statusCode, 200, response.body);
  };
  for (let round = 0; round < 10; round += 1) {
    await Promise.all(Array.from({ length: 30 }, () => (random(3) === 0 ? send() : update())));
  }
  const kept = await Promise.all(ids.map((id) => folderCounts(app, id)));
  await rebuildMailboxCounts(app.db);
  const recounted = await Promise.all(ids.map((id) => folderCounts(app, id)));
  assert.deepEqual(kept, recounted);
  assert.equal(
    kept.reduce((sum, userCounts) => sum + (userCounts.find((row) => row.folder === 'sent')?.total ?? 0), 0),
    sent.length,
    'every message sent is counted once, in its sender’s sent folder',
  );
});

test('`npm run counts:rebuild` (the command itself) recounts a database whose messages were changed by hand', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const databaseUrl = tempDatabaseUrl(t);
  const { app } = await buildTestApp(t, { DATABASE_URL: databaseUrl });
  const ada = await createUser(app);
  const bob = await createUser(app);
  await sendMessages(app, ada.id, bob.id, 3);
  // By hand, behind the service's back: two of Bob's messages to spam, read.
  await app.db.updateTable('messages').set({ folder: 'spam', unread: 'N' }).where('to_userid', '=', bob.id).where('id', '<=', 2).execute();
  assert.deepEqual(await folderCounts(app, bob.id), counts([3, 3], [0, 0], [0, 0]));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/rebuild-counts.ts'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' },
  });
  assert.match(stdout, /Folder counts rebuilt from the messages \(sqlite\)/);
  assert.deepEqual(await folderCounts(app, bob.id), counts([1, 1], [0, 0], [2, 0]));
  assert.deepEqual(await folderCounts(app, ada.id), counts([0, 0], [0, 0], [0, 0], 3));
});
