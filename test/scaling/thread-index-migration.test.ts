/**
 * Migration 0010 over a database of the release before it, with conversations in it: the thread index
 * then holds replies only, every conversation still lists whole and in order, and new replies join.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { dialectOf } from '../../src/db/create-db.js';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser } from '../helpers/factories.js';
import { readThread, sendMail } from '../mailbox/mailbox-support.js';

/** The thread index's definition, as the database reports it. */
async function threadIndex(db: Kysely<Database>): Promise<string> {
  const { rows } =
    dialectOf(db) === 'postgres'
      ? await sql<{ definition: string }>`select indexdef as definition from pg_indexes where indexname = 'messages_thread' and schemaname = current_schema()`.execute(db)
      : await sql<{ definition: string }>`select sql as definition from sqlite_master where name = 'messages_thread'`.execute(db);
  assert.equal(rows.length, 1, 'one messages_thread index');
  return rows[0]!.definition;
}

test('migration 0010 makes the thread index hold replies only; conversations stored before it list whole, in order, and take new replies', async (t) => {
  const { app } = await buildTestApp(t);
  const db = app.db;
  const ada = await createUser(app);
  const bob = await createUser(app);
  const first = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'Lunch', message: 'Noon?' });
  const reply = await sendMail(app, bob.id, { in_reply_to: first.id, message: 'Yes.' });
  const alone = await sendMail(app, bob.id, { to_userid: ada.id, subject: 'Alone', message: 'A conversation of one.' });

  // Back to the release before 0010: its index over every message, and 0010 not yet run.
  await sql`drop index messages_thread`.execute(db);
  await sql`create index messages_thread on messages (thread_id, id)`.execute(db);
  await sql`delete from kysely_migration where name = '0010-thread-index-replies-only'`.execute(db);
  assert.doesNotMatch(await threadIndex(db), /where/i);

  await migrateToLatest(db, dialectOf(db));
  assert.match(await threadIndex(db), /where[\s(]*\(?thread_id is not null/i);

  const threadIds = async (userId: number, threadId: number) => (await readThread(app, userId, threadId)).messages.map((message) => message.id);
  assert.deepEqual(await threadIds(ada.id, first.id), [first.id, reply.id]);
  assert.deepEqual(await threadIds(bob.id, first.id), [first.id, reply.id]);
  assert.deepEqual(await threadIds(ada.id, alone.id), [alone.id]);
  const later = await sendMail(app, ada.id, { in_reply_to: reply.id, message: 'See you.' });
  assert.equal(later.thread_id, first.id);
  assert.deepEqual(await threadIds(bob.id, first.id), [first.id, reply.id, later.id]);
  const answer = await sendMail(app, ada.id, { in_reply_to: alone.id, message: 'Now two.' });
  assert.deepEqual(await threadIds(bob.id, alone.id), [alone.id, answer.id]);

  // Migrating again changes nothing.
  await migrateToLatest(db, dialectOf(db));
  assert.deepEqual(await threadIds(ada.id, first.id), [first.id, reply.id, later.id]);
});
