/**
 * SQLite's WAL checkpoints run in a worker thread (src/db/sqlite-checkpointer.ts), so their fsyncs
 * never stall the event loop; if the worker cannot run, the service's connection checkpoints as before.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { sql } from 'kysely';
import { SQLITE_MODULE_PATH } from '../../src/db/better-sqlite3.js';
import { createDatabase } from '../../src/db/create-db.js';
import { BACKSTOP_PAGES, CHECKPOINTER_AFTER_COMMITS, startCheckpointer } from '../../src/db/sqlite-checkpointer.js';
import { eventually, SQLITE_PASS_ONLY, tempDatabaseUrl } from '../helpers/services.js';

const ROWS = 300;
const ROW_BYTES = 3000;

test('from the 100th commit a worker copies the WAL into the database file, the service’s connection only past the backstop; closing loses nothing', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const url = tempDatabaseUrl(t);
  const file = url.slice('sqlite:'.length);
  const { db } = createDatabase(url);
  let open = true;
  t.after(async () => {
    if (open) await db.destroy();
  });
  const autocheckpoint = async () => Number(Object.values((await sql<Record<string, number>>`pragma wal_autocheckpoint`.execute(db)).rows[0] ?? {})[0]);
  await sql`create table filler (x blob not null)`.execute(db);
  // Until the connection's 100th commit, SQLite checkpoints in the commits, as by default.
  for (let commit = 1; commit < CHECKPOINTER_AFTER_COMMITS; commit += 1) {
    await db.transaction().execute((trx) => sql`insert into filler (x) values (randomblob(10))`.execute(trx));
  }
  assert.equal(await autocheckpoint(), 1000);
  await db.transaction().execute((trx) => sql`insert into filler (x) values (randomblob(10))`.execute(trx));
  await eventually(async () => (await autocheckpoint()) === BACKSTOP_PAGES, 10_000, 'the worker’s connection is open and the service’s connection leaves checkpoints to it');

  const sizeBefore = statSync(file).size;
  await db.transaction().execute(async (trx) => {
    for (let row = 0; row < ROWS; row += 1) await sql`insert into filler (x) values (randomblob(${ROW_BYTES}))`.execute(trx);
  });
  // Far fewer pages than the backstop: only the worker copies them into the file.
  await eventually(async () => statSync(file).size - sizeBefore >= ROWS * ROW_BYTES, 10_000, 'the database file holds the rows written to the WAL');

  await db.destroy();
  open = false;
  // The worker's connection closed first, so the service's was the last and removed the WAL.
  assert.equal(existsSync(`${file}-wal`), false);
  const reopened = createDatabase(url);
  t.after(() => reopened.db.destroy());
  const { rows } = await sql<{ n: number }>`select count(*) as n from filler`.execute(reopened.db);
  assert.equal(Number(rows[0]?.n), CHECKPOINTER_AFTER_COMMITS + ROWS);
});

test('a worker that cannot run hands checkpoints back to the service’s connection at once, and says so', { skip: SQLITE_PASS_ONLY }, async (t) => {
  const url = tempDatabaseUrl(t);
  const { db } = createDatabase(url);
  t.after(() => db.destroy());
  const settings: number[] = [];
  const stopped: unknown[] = [];
  const checkpointer = startCheckpointer({
    file: url.slice('sqlite:'.length),
    modulePath: `${SQLITE_MODULE_PATH}-no-such-module`,
    synchronous: 'NORMAL',
    setAutocheckpoint: (pages) => settings.push(pages),
    onStopped: (error) => stopped.push(error),
  });
  await eventually(async () => stopped.length > 0, 10_000, 'the worker has stopped');
  assert.deepEqual(settings, [1000]);
  assert.equal(stopped.length, 1);
  assert.match(String(stopped[0]), /Cannot find module/);
  await checkpointer.close();
  assert.equal(stopped.length, 1, 'closing a stopped worker is quiet');
});
