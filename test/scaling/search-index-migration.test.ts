/**
 * Migration 0008 (SQLite's full-text index without word positions) over a database of the previous
 * release with indexed mail in it: the index is built again, every message is found as before (words,
 * several words, a prefix), new mail joins it, and migrating again changes nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { createDatabase } from '../../src/db/create-db.js';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { indexUnindexedMessages } from '../../src/modules/mailbox/search-index.js';
import { createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { testDatabaseUrl } from '../helpers/services.js';
import { mailboxMessages, sendMail } from '../mailbox/mailbox-support.js';

const PREVIOUS_RELEASE = '0007-mailbox-counts';

test('a database of the previous release upgrades to 0008: its index is built again without positions, and every search finds what it found', async (t) => {
  const storage = await createTestStorage(t);
  const dir = mkdtempSync(join(tmpdir(), 'inbox-migration-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const url = testDatabaseUrl() ?? `sqlite:${join(dir, 'inbox.db')}`;
  const { db, dialect } = createDatabase(url, storage.databaseSchema ? { schema: storage.databaseSchema } : {});
  t.after(() => db.destroy());

  // ---- The previous release's database, its mail indexed as that release indexed it. ----
  await migrateToLatest(db, dialect, { upTo: PREVIOUS_RELEASE });
  const typed = db as Kysely<Database>;
  const [ada, bob] = (
    await typed
      .insertInto('users')
      .values(['ada', 'bob'].map((name) => ({ email: `${name}@example.com`, email_key: `${name}@example.com`, hashed_password: '$argon2id$v=19$m=19456,t=2,p=1$legacy$x' })))
      .returning('id')
      .execute()
  ).map((row) => row.id) as [number, number];
  const texts = [
    ['Lunch on Friday', 'Shall we meet at noon? The lunch place by the river.'],
    ['Quarterly report', 'Numbers for Q3 attached, and the lunch budget.'],
    ['Garden party', 'Bring lemonade, please: zebrafish themed.'],
  ] as const;
  const ids: number[] = [];
  for (const [subject, message] of texts) {
    const [row] = await typed.insertInto('messages').values({ from_userid: bob, to_userid: ada, subject, message, created_at: Date.now() }).returning('id').execute();
    ids.push(row!.id);
  }
  assert.equal(await indexUnindexedMessages(typed), texts.length);
  const [lunch, report, garden] = ids as [number, number, number];

  // ---- The upgrade. ----
  await migrateToLatest(db, dialect);
  const applied = (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)).rows.map((row) => row.name);
  assert.equal(applied.at(-1), '0008-search-without-positions');
  if (dialect === 'sqlite') {
    const { rows } = await sql<{ sql: string }>`select sql from sqlite_master where name = 'messages_search'`.execute(db);
    assert.match(rows[0]?.sql ?? '', /detail=none/, 'the index keeps no positions');
  }
  // Migrating again changes nothing (and finds nothing left to index).
  await migrateToLatest(db, dialect);
  assert.equal(await indexUnindexedMessages(typed), 0);

  // ---- The service on the upgraded database. ----
  const app = await startTestApp(t, { ...storage, env: { ...storage.env, DATABASE_URL: url } });
  const search = async (q: string) => (await mailboxMessages(app, ada, `?q=${encodeURIComponent(q)}`)).messages.map((message) => message.id);
  const newer = (await sendMail(app, bob, { to_userid: ada, subject: 'Lunch again', message: 'Same river place?' })).id;
  for (const [q, expected] of [
    ['lunch', [newer, report, lunch]],
    ['lunch river', [newer, lunch]],
    ['river lunch', [newer, lunch]],
    ['zebrafish', [garden]],
    ['q3 numbers', [report]],
    ['lun', [newer, report, lunch]],
    ['l', [newer, garden, report, lunch]],
    ['lunch z', []],
    ['garden zebra', [garden]],
  ] as const) {
    assert.deepEqual(await search(q), expected, `q=${q}`);
  }
});
