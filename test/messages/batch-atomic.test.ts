/**
 * All or nothing: a batch whose write fails half-way must leave every listed message as it was.
 * The failure is forced with a SQLite trigger on the second message, so SQLite only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { dialectOf } from '../../src/db/create-db.js';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessages, storedMessages } from '../helpers/factories.js';

async function threeMessagesWithFailingSecond(testApp: TestApp) {
  const { app } = testApp;
  const sender = await createUser(app);
  const recipient = await createUser(app);
  const ids = await sendMessages(app, sender.id, recipient.id, 3);
  // Different starting states, so the batch writes more than one UPDATE and the first one succeeds.
  assert.equal((await batchUpdate(app, { message_id_list: [ids[0]], read: 'true' })).statusCode, 200);
  const before = await storedMessages(app, ids);
  await sql`CREATE TRIGGER fail_second_message BEFORE UPDATE ON messages WHEN NEW.id = ${sql.lit(ids[1])}
    BEGIN SELECT RAISE(ABORT, 'forced failure'); END`.execute(app.db);
  return { ...testApp, sender, recipient, ids, before };
}

test('when writing the second of three messages fails, the answer is 500 and none of the three changes', async (t) => {
  const testApp = await buildTestApp(t);
  if (dialectOf(testApp.app.db) !== 'sqlite') return t.skip('needs a SQLite trigger');
  const { app: failing, ids, before } = await threeMessagesWithFailingSecond(testApp);

  const response = await batchUpdate(failing, { message_id_list: ids, trash: 'true' });
  assert.equal(response.statusCode, 500);
  assert.equal(response.body, '{"detail":"Internal Server Error"}');
  assert.deepEqual(await storedMessages(failing, ids), before);
});

test('when a spam report fails half-way, no message moves, no report is recorded and no counter appears', async (t) => {
  const testApp = await buildTestApp(t);
  if (dialectOf(testApp.app.db) !== 'sqlite') return t.skip('needs a SQLite trigger');
  const { app: failing, redis, sender, ids, before } = await threeMessagesWithFailingSecond(testApp);

  const response = await batchUpdate(failing, { message_id_list: ids, spam: 'true', read: 'false' });
  assert.equal(response.statusCode, 500);
  assert.equal(response.body, '{"detail":"Internal Server Error"}');
  assert.deepEqual(await storedMessages(failing, ids), before);
  assert.deepEqual(await failing.db.selectFrom('spam_reports').selectAll().execute(), []);
  await failing.spamReports.settled();
  assert.equal(await redis.get(`msg:spam-reports:uid:${sender.id}`), null);
});

test('once the failure is gone, the same batch changes all three', async (t) => {
  const testApp = await buildTestApp(t);
  if (dialectOf(testApp.app.db) !== 'sqlite') return t.skip('needs a SQLite trigger');
  const { app: failing, ids, before } = await threeMessagesWithFailingSecond(testApp);
  assert.equal((await batchUpdate(failing, { message_id_list: ids, trash: 'true' })).statusCode, 500);
  await sql`DROP TRIGGER fail_second_message`.execute(failing.db);

  const response = await batchUpdate(failing, { message_id_list: ids, trash: 'true' });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, '{"msg":"Success"}');
  assert.deepEqual(
    await storedMessages(failing, ids),
    before.map((message) => ({ ...message, folder: 'trash' })),
  );
});
