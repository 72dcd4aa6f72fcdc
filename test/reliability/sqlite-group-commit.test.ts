/**
 * The SQLite driver's group commit (src/db/sqlite-group-commit.ts): transactions that arrive together
 * share one real commit, yet each one is all-or-nothing on its own, none is reported committed before
 * it is, and a failed commit fails every member with nothing stored. A second connection to the same
 * file is the witness of what is committed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery, type Generated, Kysely, sql } from 'kysely';
import SqliteDatabase from '../../src/db/better-sqlite3.js';
import { inTransaction } from '../../src/db/create-db.js';
import { runCompiled } from '../../src/db/prepared.js';
import { GroupCommitSqliteDialect, GroupRolledBack, MAX_GROUP_SIZE, runAtOnce } from '../../src/db/sqlite-group-commit.js';
import { SQLITE_PASS_ONLY } from '../helpers/services.js';

interface Tables {
  notes: { id: Generated<number>; body: string };
  parents: { id: number };
  children: { id: number; parent_id: number };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('SQLite group commit', { skip: SQLITE_PASS_ONLY }, () => {
  let directory: string;
  let sqlite: InstanceType<typeof SqliteDatabase>;
  let witness: InstanceType<typeof SqliteDatabase>;
  let dialect: GroupCommitSqliteDialect;
  let db: Kysely<Tables>;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'group-commit-'));
    const file = join(directory, 'test.db');
    sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    dialect = new GroupCommitSqliteDialect(sqlite);
    db = new Kysely<Tables>({ dialect });
    await sql`create table notes (id integer primary key, body text not null)`.execute(db);
    await sql`create table parents (id integer primary key)`.execute(db);
    // Checked at commit: a row that breaks it makes the real COMMIT fail.
    await sql`create table children (id integer primary key, parent_id integer not null references parents (id) deferrable initially deferred)`.execute(db);
    witness = new SqliteDatabase(file, { readonly: true });
  });

  after(async () => {
    witness.close();
    await db.destroy();
    rmSync(directory, { recursive: true, force: true });
  });

  const committedBodies = (): string[] => (witness.prepare('select body from notes order by id').all() as { body: string }[]).map((row) => row.body);
  const insertNote = (trx: Kysely<Tables>, body: string) => trx.insertInto('notes').values({ body }).execute();

  async function reset(): Promise<void> {
    await sql`delete from notes`.execute(db);
    await sql`delete from children`.execute(db);
    await sql`delete from parents`.execute(db);
  }

  /**
   * Both ways in: Kysely's own (`db.transaction().execute`), and the service's inTransaction, which on
   * this driver runs a transaction at once when no one holds the connection (transactAtOnce) and takes
   * Kysely's way, which queues, when someone does.
   */
  const ways: [string, <T>(work: (trx: Kysely<Tables>) => Promise<T>) => Promise<T>][] = [
    ['db.transaction().execute', (work) => db.transaction().execute(work)],
    ['inTransaction', (work) => inTransaction(db, work)],
  ];
  for (const [way, transact] of ways) {
    describe(way, () => {
      test('transactions that arrive together share one commit, and none is reported before it is committed', async () => {
        await reset();
        const commits = dialect.driver.commits;
        const seenByLater: number[] = [];
        const writes = Array.from({ length: 20 }, (_, index) =>
          transact(async (trx) => {
            // The earlier members have ended, but nothing of theirs is committed yet.
            seenByLater.push(committedBodies().length);
            await insertNote(trx, `note ${index}`);
          }),
        );
        const committedAtAnswer = await Promise.all(writes.map((write) => write.then(() => committedBodies().length)));
        assert.equal(dialect.driver.commits - commits, 1);
        assert.deepEqual(seenByLater, Array.from({ length: 20 }, () => 0));
        assert.deepEqual(committedAtAnswer, Array.from({ length: 20 }, () => 20));
        assert.deepEqual(committedBodies(), Array.from({ length: 20 }, (_, index) => `note ${index}`));
      });

      test('a transaction that fails rolls back alone; the others in its group commit', async () => {
        await reset();
        const commits = dialect.driver.commits;
        const results = await Promise.allSettled([
          transact((trx) => insertNote(trx, 'first')),
          transact(async (trx) => {
            await insertNote(trx, 'doomed');
            await insertNote(trx, 'doomed too');
            throw new Error('changed my mind');
          }),
          transact(async (trx) => {
            // A statement that fails (a duplicate key) undoes only itself; the transaction then fails whole.
            await insertNote(trx, 'third');
            await trx.insertInto('notes').values({ id: 1, body: 'clash' }).execute().catch(() => undefined);
          }),
        ]);
        assert.deepEqual(
          results.map((result) => result.status),
          ['fulfilled', 'rejected', 'fulfilled'],
        );
        assert.equal((results[1] as PromiseRejectedResult).reason.message, 'changed my mind');
        assert.deepEqual(committedBodies(), ['first', 'third']);
        assert.equal(dialect.driver.commits - commits, 1);
      });

      test('a transaction that fails after writing is undone; those before it in the group are stored as they were, with the same ids', async () => {
        await reset();
        const replays = dialect.driver.replays;
        const idOf = async (trx: Kysely<Tables>, body: string) => Number((await trx.insertInto('notes').values({ body }).executeTakeFirstOrThrow()).insertId);
        const results = await Promise.allSettled([
          transact((trx) => idOf(trx, 'first')),
          transact(async (trx) => {
            const id = await idOf(trx, 'second');
            // A statement that fails undoes only itself and is not one of the transaction's writes: it is not run again.
            await trx.insertInto('notes').values({ id: 1, body: 'clash' }).execute().catch(() => undefined);
            await trx.updateTable('notes').set({ body: 'second, edited' }).where('id', '=', id).execute();
            return id;
          }),
          transact(async (trx) => {
            await idOf(trx, 'doomed');
            await trx.deleteFrom('notes').where('body', '=', 'first').execute();
            throw new Error('changed my mind');
          }),
          transact((trx) => idOf(trx, 'fourth')),
        ]);
        assert.deepEqual(
          results.map((result) => result.status),
          ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
        );
        const [first, second, , fourth] = results.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
        assert.equal(dialect.driver.replays - replays, 1);
        assert.deepEqual(witness.prepare('select id, body from notes order by id').all(), [
          { id: first, body: 'first' },
          { id: second, body: 'second, edited' },
          { id: fourth, body: 'fourth' },
        ]);
        assert.equal(fourth, Number(second) + 1);
      });

      test('a transaction whose only write fails has nothing to undo: the group is not run again', async () => {
        await reset();
        const replays = dialect.driver.replays;
        const results = await Promise.allSettled([
          transact((trx) => insertNote(trx, 'kept')),
          transact(async (trx) => {
            await trx.selectFrom('notes').selectAll().execute();
            await trx.insertInto('notes').values({ id: 1, body: 'clash' }).execute();
          }),
          transact((trx) => insertNote(trx, 'also kept')),
        ]);
        assert.deepEqual(
          results.map((result) => result.status),
          ['fulfilled', 'rejected', 'fulfilled'],
        );
        assert.equal(dialect.driver.replays - replays, 0);
        assert.deepEqual(committedBodies(), ['kept', 'also kept']);
      });

      test('a statement outside a transaction commits the open group first, so it never reads uncommitted writes', async () => {
        await reset();
        const write = transact((trx) => insertNote(trx, 'written'));
        const read = db
          .selectFrom('notes')
          .select('body')
          .execute()
          .then((rows) => ({ rows: rows.map((row) => row.body), committed: committedBodies() }));
        const [, seen] = await Promise.all([write, read]);
        assert.deepEqual(seen, { rows: ['written'], committed: ['written'] });
      });

      test('when the commit fails, every member fails and nothing of the group is stored; the next group works', async () => {
        await reset();
        const results = await Promise.allSettled([
          transact((trx) => insertNote(trx, 'innocent')),
          transact((trx) => trx.insertInto('children').values({ id: 1, parent_id: 404 }).execute()),
          transact((trx) => trx.insertInto('parents').values({ id: 7 }).execute()),
        ]);
        for (const result of results) {
          assert.equal(result.status, 'rejected');
          assert.ok(result.reason instanceof GroupRolledBack, String(result.reason));
          assert.match(String((result.reason as GroupRolledBack).cause), /FOREIGN KEY constraint failed/);
        }
        assert.deepEqual(committedBodies(), []);
        assert.deepEqual(witness.prepare('select id from parents').all(), []);
        assert.equal(sqlite.inTransaction, false);

        await transact((trx) => insertNote(trx, 'after'));
        assert.deepEqual(committedBodies(), ['after']);
      });

      test(`a group holds at most ${MAX_GROUP_SIZE} transactions`, async () => {
        await reset();
        const commits = dialect.driver.commits;
        const count = MAX_GROUP_SIZE * 2 + 10;
        await Promise.all(Array.from({ length: count }, (_, index) => transact((trx) => insertNote(trx, `n${index}`))));
        assert.equal(dialect.driver.commits - commits, 3);
        assert.equal(committedBodies().length, count);
      });

      test('a transaction after the turn ended opens a group of its own', async () => {
        await reset();
        const commits = dialect.driver.commits;
        const first = transact((trx) => insertNote(trx, 'one'));
        await nextTurn();
        await nextTurn();
        const second = transact((trx) => insertNote(trx, 'two'));
        await Promise.all([first, second]);
        assert.equal(dialect.driver.commits - commits, 2);
        assert.deepEqual(committedBodies(), ['one', 'two']);
      });

      test('a transaction waiting for the connection while another awaits something else still commits, in order', async () => {
        await reset();
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const slow = transact(async (trx) => {
          await insertNote(trx, 'slow');
          await gate;
        });
        const quick = transact((trx) => insertNote(trx, 'quick'));
        await nextTurn();
        await nextTurn();
        // The slow transaction holds the connection: nothing is committed, and the quick one waits its turn.
        assert.deepEqual(committedBodies(), []);
        release();
        await Promise.all([slow, quick]);
        assert.deepEqual(committedBodies(), ['slow', 'quick']);
      });

      test('a handle kept past its transaction runs nothing more: its statements fail', async () => {
        await reset();
        let kept: Kysely<Tables> | undefined;
        await transact(async (trx) => {
          kept = trx;
          await insertNote(trx, 'inside');
        });
        await assert.rejects(insertNote(kept!, 'after the end'), /already committed|has ended/);
        await assert.rejects(async () => runCompiled(kept!, CompiledQuery.raw('insert into notes (body) values (?)', ['after the end, prepared'])), /already committed|has ended/);
        let rolledBack: Kysely<Tables> | undefined;
        await assert.rejects(
          transact(async (trx) => {
            rolledBack = trx;
            throw new Error('undone');
          }),
          /undone/,
        );
        await assert.rejects(insertNote(rolledBack!, 'after a rollback'), /already rolled back|has ended/);
        assert.deepEqual(committedBodies(), ['inside']);
      });
    });
  }

  test('a bound limit is written cast(? as integer), which SQLite does not re-plan at each new value; pages still hold what they ask', async () => {
    await reset();
    for (const body of ['a', 'b', 'c', 'd']) await insertNote(db, body);
    const page = (limit: number, offset: number) => db.selectFrom('notes').select('body').orderBy('id').limit(limit).offset(offset);
    assert.equal(page(2, 1).compile().sql, 'select "body" from "notes" order by "id" limit cast(? as integer) offset ?');
    for (const [limit, offset, bodies] of [
      [2, 1, ['b', 'c']],
      [3, 0, ['a', 'b', 'c']],
      [0, 0, []],
      [10, 3, ['d']],
    ] as const) {
      assert.deepEqual((await page(limit, offset).execute()).map((row) => row.body), bodies, `limit ${limit} offset ${offset}`);
    }
  });

  test('rows keep their columns across a schema change (kept statements are made again)', async () => {
    await sql`create table shapes (id integer primary key)`.execute(db);
    await sql`insert into shapes (id) values (1)`.execute(db);
    const before = await sql<Record<string, unknown>>`select * from shapes`.execute(db);
    assert.deepEqual(before.rows, [{ id: 1 }]);
    await sql`alter table shapes add column name text default 'square'`.execute(db);
    const after = await sql<Record<string, unknown>>`select * from shapes`.execute(db);
    assert.deepEqual(after.rows, [{ id: 1, name: 'square' }]);
  });

  test('another connection that commits while a group is rolled back to run again: the group fails whole, nothing of it is stored, the other write is kept, and the next group works', async () => {
    await reset();
    // A connection of this test's own on the file, whose `rollback` lets another connection (another
    // process, in effect) commit in that very moment: after the group's rollback, before its new begin.
    const own = new SqliteDatabase(join(directory, 'test.db'));
    const other = new SqliteDatabase(join(directory, 'test.db'));
    let interleave: (() => void) | undefined;
    const prepare = own.prepare.bind(own);
    own.prepare = ((source: string) => {
      const statement = prepare(source);
      if (source === 'rollback') {
        const run = statement.run.bind(statement);
        statement.run = (...parameters) => {
          const result = run(...parameters);
          const write = interleave;
          interleave = undefined;
          write?.();
          return result;
        };
      }
      return statement;
    }) as typeof own.prepare;
    const ownDialect = new GroupCommitSqliteDialect(own);
    const ownDb = new Kysely<Tables>({ dialect: ownDialect });
    try {
      let wrote = false;
      interleave = () => {
        other.prepare("insert into notes (body) values ('another process')").run();
        wrote = true;
      };
      const replays = ownDialect.driver.replays;
      const results = await Promise.allSettled([
        inTransaction(ownDb, (trx) => insertNote(trx, 'first')),
        inTransaction(ownDb, async (trx) => {
          await insertNote(trx, 'doomed');
          throw new Error('changed my mind');
        }),
      ]);
      assert.ok(wrote, 'the other connection wrote between the rollback and the new begin');
      // The first had ended and was waiting for the commit: it is told it failed, and it was not stored.
      assert.equal(results[0].status, 'rejected');
      const reason = (results[0] as PromiseRejectedResult).reason as unknown;
      assert.ok(reason instanceof GroupRolledBack, String(reason));
      assert.match(String(reason.cause), /another connection wrote while the group was being rolled back/);
      assert.equal(results[1].status, 'rejected');
      assert.equal(ownDialect.driver.replays - replays, 0, 'nothing was run again on a state that had changed');
      assert.deepEqual(committedBodies(), ['another process']);
      assert.equal(own.inTransaction, false);

      await inTransaction(ownDb, (trx) => insertNote(trx, 'after'));
      assert.deepEqual(committedBodies(), ['another process', 'after']);
    } finally {
      await ownDb.destroy();
      other.close();
    }
  });

  describe('statements run at once (runAtOnce), without Kysely\'s executor', () => {
    const insert = (body: string) => CompiledQuery.raw('insert into notes (body) values (?)', [body]);
    const bodiesQuery = CompiledQuery.raw('select body from notes order by id', []) as CompiledQuery<{ body: string }>;

    test('inside a bound transaction they run on its connection: all or nothing with it, in one group', async () => {
      await reset();
      const commits = dialect.driver.commits;
      const results = await Promise.allSettled([
        inTransaction(db, async (trx) => {
          assert.ok(runAtOnce(trx, insert('kept')) !== undefined, 'ran at once');
          await runCompiled(trx, insert('kept too'));
        }),
        inTransaction(db, async (trx) => {
          await runCompiled(trx, insert('undone'));
          throw new Error('changed my mind');
        }),
      ]);
      assert.deepEqual(
        results.map((result) => result.status),
        ['fulfilled', 'rejected'],
      );
      assert.deepEqual(committedBodies(), ['kept', 'kept too']);
      assert.equal(dialect.driver.commits - commits, 1);
    });

    test('a transaction that has ended, or one Kysely began unbound, goes through the executor (which refuses the ended one)', async () => {
      await reset();
      let ended: Kysely<Tables> | undefined;
      await inTransaction(db, async (trx) => {
        ended = trx;
      });
      assert.equal(runAtOnce(ended!, insert('too late')), undefined);
      await assert.rejects(async () => runCompiled(ended!, insert('too late')), /has ended/);
      await db.transaction().execute(async (trx) => {
        assert.equal(runAtOnce(trx, insert('unbound')), undefined);
        await runCompiled<Tables, unknown>(trx, insert('unbound'));
      });
      assert.deepEqual(committedBodies(), ['unbound']);
    });

    test('outside a transaction they commit the open group first, and wait their turn while a transaction holds the connection', async () => {
      await reset();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let ran = false;
      const write = inTransaction(db, async (trx) => {
        await insertNote(trx, 'first');
        ran = true;
      });
      // Until the transaction has run and let go of the connection (it then waits for the group's commit).
      for (let step = 0; step < 100 && !(ran && dialect.driver.holder === undefined); step += 1) await Promise.resolve();
      assert.ok(ran && dialect.driver.holder === undefined);
      // The group is open and no one holds the connection: the read commits the group, then reads.
      assert.deepEqual(committedBodies(), []);
      const read = runAtOnce<{ body: string }>(db, bodiesQuery);
      assert.deepEqual(read?.rows, [{ body: 'first' }]);
      assert.deepEqual(committedBodies(), ['first']);
      await write;
      const slow = inTransaction(db, async (trx) => {
        await insertNote(trx, 'slow');
        await gate;
      });
      await nextTurn();
      assert.equal(runAtOnce(db, bodiesQuery), undefined, 'held by the slow transaction');
      const queued = runCompiled(db, bodiesQuery);
      release();
      assert.deepEqual((await queued).rows, [{ body: 'first' }, { body: 'slow' }]);
      await slow;
    });
  });
});
