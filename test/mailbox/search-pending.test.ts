/**
 * SQLite's pending words (modules/mailbox/search-index.ts, plugins/search-flush.ts): a new message's
 * words wait in `messages_search_pending` and are moved into the FTS5 table in batches, in the
 * background, at close, and by any process on the file. That searches find the same messages in every
 * state is tested with the search itself (search.test.ts, inEveryIndexState).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { createUser, sendMessage } from '../helpers/factories.js';
import { eventually, SQLITE_PASS_ONLY, tempDatabaseUrl } from '../helpers/services.js';
import { createDatabase, inTransaction } from '../../src/db/create-db.js';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { FLUSH_BATCH, flushPendingWords, indexUnindexedMessages } from '../../src/modules/mailbox/search-index.js';
import { insertMessage } from '../../src/modules/messages/messages.repository.js';
import { insertMail } from './mailbox-support.js';

const pendingIds = async (db: Kysely<Database>) =>
  (await sql<{ id: number }>`select id from messages_search_pending order by id`.execute(db)).rows.map((row) => row.id);
const indexedIds = async (db: Kysely<Database>) =>
  (await sql<{ rowid: number }>`select rowid from messages_search order by rowid`.execute(db)).rows.map((row) => row.rowid);
/** The ids the FTS5 table finds for one word (a row there twice would show twice). */
const indexedHits = async (db: Kysely<Database>, word: string) =>
  (await sql<{ rowid: number }>`select rowid from messages_search where messages_search match ${`"${word}"`} order by rowid`.execute(db)).rows.map((row) => row.rowid);

/** A migrated SQLite database (closed when the test ends) with users 1 and 2, written straight into it. */
async function databaseWithTwoUsers(t: TestContext, url: string): Promise<Kysely<Database>> {
  const { db } = createDatabase(url);
  t.after(() => db.destroy());
  await migrateToLatest(db, 'sqlite');
  await db.insertInto('users').values([1, 2].map((id) => ({ id, email: `u${id}@x.io`, email_key: `u${id}@x.io`, hashed_password: 'x', is_active: 1 }))).execute();
  return db;
}

test('a new message’s words wait as a pending row, and the service moves them into the FTS5 table within moments', { skip: SQLITE_PASS_ONLY }, async (t) => {
  // Stored through the repository, without the service: nothing moves them.
  const db = await databaseWithTwoUsers(t, 'sqlite::memory:');
  const { message } = await insertMessage(db, { from_userid: 1, to_userid: 2, subject: 'Pending words', message: 'zero' });
  assert.deepEqual(await pendingIds(db), [message.id], 'stored with the message, in its transaction');
  assert.deepEqual(await indexedIds(db), []);

  const app = await startTestApp(t, await createTestStorage(t));
  const ada = await createUser(app);
  const bob = await createUser(app);
  const first = await sendMessage(app, bob.id, ada.id, { subject: 'Pending words', message: 'one' });
  const second = await sendMessage(app, bob.id, ada.id, { subject: 'Pending words', message: 'two' });
  await eventually(async () => (await pendingIds(app.db)).length === 0, 5000, 'the pending words to be moved');
  assert.deepEqual(await indexedHits(app.db, 'pending'), [first.id, second.id]);
  assert.deepEqual(await indexedHits(app.db, 'two'), [second.id]);
});

test('flushPendingWords moves the oldest FLUSH_BATCH at a time, once each, and a rebuild leaves pending words alone', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const db = await databaseWithTwoUsers(t, 'sqlite::memory:');
  const app = { db } as Parameters<typeof insertMail>[0];
  const ids = await insertMail(app, 1, 2, FLUSH_BATCH + 5);
  // As the service stores them: each message's words pending (the rebuild must then leave them be).
  for (const id of ids) await sql`insert into messages_search_pending (id, words) values (${id}, ${`bulk ${id}`})`.execute(db);
  assert.equal(await indexUnindexedMessages(db), 0, 'pending words are as good as indexed');

  assert.equal(await flushPendingWords(db), FLUSH_BATCH);
  assert.deepEqual(await pendingIds(db), ids.slice(FLUSH_BATCH), 'the oldest went first');
  assert.equal(await flushPendingWords(db), 5);
  assert.equal(await flushPendingWords(db), 0, 'nothing left: nothing done');
  assert.deepEqual(await indexedHits(db, 'bulk'), ids);
  assert.deepEqual(await indexedHits(db, String(ids[7])), [ids[7]]);
});

/** In another process: flushes the pending words of the file argv[1] until argv[2] ms from now, then prints how many it moved. */
const FLUSH_UNTIL = `
import { createDatabase } from './src/db/create-db.js';
import { flushPendingWords } from './src/modules/mailbox/search-index.js';
const [url, until] = process.argv.slice(1);
const { db } = createDatabase(url);
let moved = 0;
while (Date.now() < Number(until)) {
  moved += await flushPendingWords(db);
  await new Promise((resolve) => setTimeout(resolve, 1));
}
console.log(moved);
await db.destroy();
`;

function flushInAnotherProcess(url: string, until: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', FLUSH_UNTIL, url, String(until)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

test('processes moving the same pending words at once index each message once', { skip: SQLITE_PASS_ONLY, timeout: 60_000 }, async (t) => {
  const url = tempDatabaseUrl(t);
  const db = await databaseWithTwoUsers(t, url);
  const ids = await insertMail({ db } as Parameters<typeof insertMail>[0], 1, 2, 1000);
  // Three other processes flush for a while (after their start-up), while this one adds the words 50 at a time and flushes too.
  const until = Date.now() + 6000;
  const others = [1, 2, 3].map(() => flushInAnotherProcess(url, until));
  await new Promise((resolve) => setTimeout(resolve, 2500));
  let movedHere = 0;
  for (let start = 0; start < ids.length; start += 50) {
    await inTransaction(db, async (trx) => {
      for (const id of ids.slice(start, start + 50)) await sql`insert into messages_search_pending (id, words) values (${id}, 'shared')`.execute(trx);
    });
    // Every third round this process moves what is pending too; between rounds the others have a moment.
    if (start % 150 === 0) movedHere += await flushPendingWords(db);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const results = await Promise.all(others);
  results.forEach((result, index) => assert.equal(result.code, 0, `process ${index}: ${result.output}`));
  movedHere += await flushPendingWords(db);
  const movedThere = results.map((result) => Number(result.output.trim()));
  assert.equal(movedHere + movedThere.reduce((sum, count) => sum + count, 0), ids.length, `moved ${movedHere} here, ${movedThere.join(', ')} there`);
  assert.ok(movedThere.some((count) => count > 0), `the other processes moved some too: ${movedThere.join(', ')}`);
  assert.deepEqual(await indexedHits(db, 'shared'), ids);
  assert.deepEqual(await pendingIds(db), []);
});

test('closing the service moves its pending words first; words another process left pending are moved by the next', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const url = tempDatabaseUrl(t);
  const storage = await createTestStorage(t, { DATABASE_URL: url });
  const app = await startTestApp(t, storage);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const sent = await sendMessage(app, bob.id, ada.id, { subject: 'At close', message: 'x' });
  assert.deepEqual(await pendingIds(app.db), [sent.id]);
  await app.close();

  const { db } = createDatabase(url);
  t.after(() => db.destroy());
  assert.deepEqual(await pendingIds(db), []);
  assert.deepEqual(await indexedHits(db, 'close'), [sent.id]);

  // A process that stopped without closing leaves its words pending: the next service on the file moves them.
  await sql`insert into messages_search_pending (id, words) values (${sent.id + 1000}, 'orphan')`.execute(db);
  const next = await startTestApp(t, storage);
  await eventually(async () => (await pendingIds(next.db)).length === 0, 5000, 'the orphaned words to be moved');
  assert.deepEqual(await indexedHits(next.db, 'orphan'), [sent.id + 1000]);
});
