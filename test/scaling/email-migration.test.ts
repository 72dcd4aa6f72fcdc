/**
 * Migration 0003 over a database of the previous release: addresses differing only in letter case
 * stop it with a message naming them and change nothing; once resolved, every address gets its
 * normal form and sign-in matches any case.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { createDatabase } from '../../src/db/create-db.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { testDatabaseUrl } from '../helpers/services.js';

test('case-duplicate emails stop migration 0003 naming them, change nothing, and once resolved it completes', async (t) => {
  const storage = await createTestStorage(t);
  const dir = mkdtempSync(join(tmpdir(), 'inbox-migration-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const url = testDatabaseUrl() ?? `sqlite:${join(dir, 'inbox.db')}`;
  const { db, dialect } = createDatabase(url, storage.databaseSchema ? { schema: storage.databaseSchema } : {});
  t.after(() => db.destroy());

  // The previous release's schema, with data in it.
  await migrateToLatest(db, dialect, { upTo: '0002-mailbox-indexes' });
  const legacy = db as unknown as Kysely<{ users: { id?: number; email: string; hashed_password: string } }>;
  await legacy
    .insertInto('users')
    .values([
      { email: 'ada@example.com', hashed_password: 'h1' },
      { email: 'Ada@Example.com', hashed_password: 'h2' },
      { email: 'ÉLODIE@example.com', hashed_password: 'h3' },
      { email: 'bob@example.com', hashed_password: 'h4' },
    ])
    .execute();

  await assert.rejects(migrateToLatest(db, dialect), (error: Error) => {
    assert.match(error.message, /1 email address\(es\) belong to more than one account/);
    assert.match(error.message, /1 <ada@example.com>, 2 <Ada@Example.com>/);
    assert.match(error.message, /Nothing was changed/);
    return true;
  });
  const columns = await db.introspection.getTables();
  const users = columns.find((table) => table.name === 'users' && (table.schema ?? undefined) === (storage.databaseSchema ?? table.schema));
  assert.ok(users && !users.columns.some((column) => column.name === 'email_key'), 'email_key was added anyway');
  const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  assert.deepEqual(applied.rows.map((row) => row.name), ['0001-initial', '0002-mailbox-indexes']);

  // The operator resolves it as the message says, and the next start completes.
  await legacy.updateTable('users').set({ email: 'ada.old@example.com' }).where('id', '=', 2).execute();
  await migrateToLatest(db, dialect);
  const keys = await db.selectFrom('users').select(['id', 'email', 'email_key']).orderBy('id').execute();
  assert.deepEqual(keys, [
    { id: 1, email: 'ada@example.com', email_key: 'ada@example.com' },
    { id: 2, email: 'ada.old@example.com', email_key: 'ada.old@example.com' },
    { id: 3, email: 'ÉLODIE@example.com', email_key: 'élodie@example.com' },
    { id: 4, email: 'bob@example.com', email_key: 'bob@example.com' },
  ]);

  // The service on the upgraded database: nothing lost, and the unique rule holds for old rows too.
  const app = await startTestApp(t, { ...storage, env: { ...storage.env, DATABASE_URL: url } });
  const users_ = await app.inject({ method: 'GET', url: '/users/' });
  assert.deepEqual(users_.json<{ email: string }[]>().map((user) => user.email), keys.map((row) => row.email));
  const clash = await app.inject({ method: 'POST', url: '/users/', payload: { email: 'élodie@EXAMPLE.com', password: 'secret-password' } });
  assert.equal(clash.statusCode, 400);
});
