/**
 * Kysely's SQLite driver with group commit. SQLite commits one transaction at a time, and a commit is
 * the dearest part of a small write (the WAL frames of every page it touched, the full-text index's new
 * segment, an fsync with synchronous=FULL). Writes that arrive together share one commit:
 *
 * - The first transaction opens a real one (`begin immediate`, the write lock); the group's
 *   transactions run in it one after another, on the one connection.
 * - A transaction that fails rolls back alone and never takes its neighbours with it. If it changed
 *   nothing (a statement that fails undoes itself, and the first write is where most failures happen:
 *   an unknown user's foreign key), there is nothing to undo. If it did, the real transaction is rolled
 *   back and begun again, and the writes of the transactions that ended before it are run again, in
 *   their order, from the same state: the same rows, the same ids (the statements take their values as
 *   parameters, and none asks SQLite for a random number or the time). Should another process have
 *   committed in that moment without the lock (`PRAGMA data_version` tells), the state is not the same,
 *   and the group fails instead, as a failed commit does. A savepoint per transaction did this before,
 *   but SQLite copies every page a savepoint's transaction changes before changing it (for a create:
 *   its row, seven indexes and the mailbox steps), a tenth of a create's instructions.
 * - A transaction that succeeds lets the connection go, then waits for the real commit: it is not
 *   reported committed (nor are its effects told to anyone) before it is.
 * - The real commit comes at the end of the event-loop turn (setImmediate), or at once when the group
 *   holds 64 transactions, or before any statement outside a transaction, which so never sees writes
 *   that are not committed yet.
 * - If the commit fails, or SQLite rolls the whole transaction back (a full disk), every member fails
 *   with the error and none of them is stored: all-or-nothing holds for each request.
 *
 * `begin immediate`, not a deferred `begin`: with several processes on one file, a deferred transaction
 * reads first and fails with SQLITE_BUSY_SNAPSHOT when another process wrote meanwhile (the busy
 * timeout does not help there); taking the write lock up front makes writers of every process queue.
 *
 * A single connection, as Kysely's own driver: callers queue for it. Prepared statements are kept
 * (Kysely prepares every query anew; the same few SQL strings repeat on every request).
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type LimitNode,
  type QueryCompiler,
  type QueryResult,
  SelectQueryNode,
  SqliteAdapter,
  SqliteDialect,
  SqliteQueryCompiler,
  Transaction,
  ValueNode,
} from 'kysely';

/** The driver behind each of our dialects' adapters: a Kysely handle, or a transaction of it, shares its adapter. */
const DRIVER_OF_ADAPTER = new WeakMap<object, GroupCommitSqliteDriver>();
/** The lease of each transaction begun through bindTransaction: the connection it holds. */
const LEASE_OF_TRANSACTION = new WeakMap<object, Lease>();

/** What a statement's run needs to know of whoever runs it. */
interface Runner {
  /** inside a transaction: between its begin and its commit or rollback */
  inTransaction: boolean;
  /** its statements that changed the database (or may have), in order, until it commits (or rolls back) */
  writes: CompiledQuery[];
}

/** A statement run at once outside any transaction (runAtOnce). */
const DETACHED: Runner = { inTransaction: false, writes: [] };

/** What runAtOnce needs of a Kysely handle (a Kysely or a Transaction). */
interface Handle {
  getExecutor(): { adapter: unknown };
  readonly isTransaction: boolean;
}

function driverOf(db: Handle): GroupCommitSqliteDriver | undefined {
  return DRIVER_OF_ADAPTER.get(db.getExecutor().adapter as object);
}

/**
 * Called first thing in a transaction's callback (create-db.ts's inTransaction): its connection is the
 * one the driver was just leased, which runAtOnce then uses for the transaction's statements.
 */
export function bindTransaction(trx: Handle): void {
  const lease = driverOf(trx)?.holder;
  if (lease?.inTransaction === true) LEASE_OF_TRANSACTION.set(trx, lease);
}

/**
 * Runs a compiled query on SQLite at once, synchronously, when Kysely's executor would only have handed
 * it to the connection: inside a transaction bound by bindTransaction (and still open), or outside any
 * while no one holds the connection. Kysely's path takes about ten promises a statement (an executor
 * made for it, a connection provider, the result's plugins: we have none); this takes none. Undefined
 * when it cannot (PostgreSQL, a queue for the connection, a transaction that has ended): run the query
 * through Kysely then, which queues it or reports the error as it always has.
 */
export function runAtOnce<R>(db: Handle, query: CompiledQuery): QueryResult<R> | undefined {
  const driver = driverOf(db);
  if (driver === undefined) return undefined;
  if (db.isTransaction) {
    const lease = LEASE_OF_TRANSACTION.get(db);
    if (lease === undefined || !lease.inTransaction || driver.holder !== lease) return undefined;
    return driver.run<R>(lease, query);
  }
  if (driver.holder !== undefined) return undefined;
  return driver.run<R>(DETACHED, query);
}

/**
 * Runs `work` in a transaction of the group-commit driver at once, when no one holds the connection:
 * the same begin, commit or rollback and wait for the group's commit as through Kysely's
 * `db.transaction().execute(work)`, without the promises and objects Kysely's path makes around them
 * (a connection provider, a transaction builder, a runtime driver's wrappers). Undefined when it
 * cannot (PostgreSQL, or a queue for the connection): use Kysely's path then, which waits its turn.
 */
export function transactAtOnce<DB, T>(db: Kysely<DB>, work: (trx: Kysely<DB>) => Promise<T>): Promise<T> | undefined {
  const driver = driverOf(db);
  if (driver === undefined || driver.holder !== undefined) return undefined;
  return driver.transact(db, work);
}

/**
 * Runs `work` at once in a transaction of its own, synchronously, committed before this returns (a group
 * open meanwhile commits first), when no one holds the connection; undefined when someone does, or on
 * PostgreSQL. For background work: it holds SQLite's write lock only while it runs, never across turns
 * of the event loop, where another connection of this thread (two apps on one file in one process) would
 * wait for it in SQLite's busy handler, which sleeps the thread the commit needed.
 */
export function transactNow<T>(db: Handle, work: (run: <R>(query: CompiledQuery) => QueryResult<R>) => T): T | undefined {
  const driver = driverOf(db);
  if (driver === undefined || db.isTransaction) return undefined;
  return driver.transactNow(() => work((query) => driver.run(DETACHED, query)));
}

/** Transactions that may share one commit; the group commits at once when it is full. */
export const MAX_GROUP_SIZE = 64;
const STATEMENT_CACHE_SIZE = 256;
const SCHEMA_CHANGE = /^\s*(create|alter|drop)\b/i;

interface Group {
  size: number;
  /** the writes of the transactions that succeeded, in order: run again after a failed one is undone */
  writes: CompiledQuery[];
  /** settles when the real transaction commits (or fails) */
  done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
  /** the turn it opened in has ended: commit as soon as no transaction is in progress */
  due: boolean;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A group whose only transaction failed to begin has no one waiting: its failure is not unhandled.
  done.catch(() => undefined);
  return { size: 0, writes: [], done, resolve, reject, due: false };
}

interface Prepared {
  statement: BetterSqlite3.Statement;
  /** it may change the database (SQLite's sqlite3_stmt_readonly says no): a transaction's rollback undoes it */
  writes: boolean;
  /** a reader's rows come as arrays (raw) and become objects through this */
  toRow: ((values: unknown[]) => unknown) | undefined;
}

/**
 * better-sqlite3 builds each row object column by column through V8's API; an object literal of the
 * statement's columns, made once, builds it in one step (a quarter off reading a page of ten messages).
 * Readers only, and only where every column name can be a literal's key.
 */
function withRowMaker(statement: BetterSqlite3.Statement): Prepared {
  const writes = !statement.readonly;
  if (!statement.reader) return { statement, writes, toRow: undefined };
  const names = statement.columns().map((column) => column.name);
  if (names.includes('__proto__')) return { statement, writes, toRow: undefined };
  const fields = names.map((name, index) => `${JSON.stringify(name)}: values[${index}]`).join(', ');
  // The names are SQLite's column names, quoted by JSON.stringify: the function holds no other text.
  const toRow = new Function('values', `return { ${fields} };`) as (values: unknown[]) => unknown;
  return { statement: statement.raw(true), writes, toRow };
}

/** Why a transaction that had succeeded is reported failed: the group it shared was rolled back. */
export class GroupRolledBack extends Error {
  constructor(cause: unknown) {
    super('the transaction was rolled back with the group commit it belonged to', { cause });
    this.name = 'GroupRolledBack';
  }
}

/** One holder of the connection: what Kysely calls a connection, from acquireConnection to releaseConnection. */
class Lease implements DatabaseConnection, Runner {
  holdsConnection = true;
  inTransaction = false;
  writes: CompiledQuery[] = [];
  constructor(private readonly driver: GroupCommitSqliteDriver) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return Promise.resolve(this.driver.run<R>(this, query));
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(query.query)) throw new Error('Sqlite driver only supports streaming of select queries');
    for (const row of this.driver.iterate<R>(this, query)) yield { rows: [row] };
  }
}

/** What the connection's owner hears (create-db.ts starts and ends the checkpoint worker with them). */
export interface SqliteConnectionHooks {
  /** after each real commit, with how many there have been; must not throw */
  afterCommit?(commits: number): void;
  /** before the connection closes */
  beforeClose?(): Promise<void>;
}

export class GroupCommitSqliteDriver implements Driver {
  /** real commits so far (each of one or more transactions) */
  commits = 0;
  /** times a group went back to its start to undo a failed transaction's writes, and ran the others' again */
  replays = 0;
  readonly #statements = new Map<string, Prepared>();
  #holder: Lease | undefined;
  /** the lease that holds the connection, if any */
  get holder(): Lease | undefined {
    return this.#holder;
  }
  readonly #waiting: ((lease: Lease) => void)[] = [];
  #group: Group | undefined;

  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly dialect: Dialect,
    private readonly hooks: SqliteConnectionHooks = {},
  ) {}

  async init(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    if (this.#holder === undefined) {
      this.#holder = new Lease(this);
      return Promise.resolve(this.#holder);
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#release(connection as Lease);
  }

  /** transactAtOnce's transaction, while no one holds the connection. */
  async transact<DB, T>(db: Kysely<DB>, work: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
    const lease = new Lease(this);
    this.#holder = lease;
    let begun = false;
    try {
      this.#begin(lease);
      begun = true;
      // Its statements run on this lease, and only while its transaction is open: a statement of a
      // handle kept past the end (a callback's stray promise) fails instead of running outside it.
      const executor = db.getExecutor().withConnectionProvider({
        provideConnection: async (consumer) => {
          if (!lease.inTransaction) throw new Error('a statement of a transaction that has ended');
          return consumer(lease);
        },
      });
      const trx = new Transaction<DB>({ config: { dialect: this.dialect }, dialect: this.dialect, driver: this, executor });
      LEASE_OF_TRANSACTION.set(trx, lease);
      const result = await work(trx);
      await this.commitTransaction(lease);
      return result;
    } catch (error) {
      // As Kysely's own path: after a failed commit too (a no-op once the transaction has ended).
      if (begun) this.#rollback(lease);
      throw error;
    } finally {
      this.#release(lease);
    }
  }

  /** transactNow's transaction. */
  transactNow<T>(work: () => T): T | undefined {
    if (this.#holder !== undefined) return undefined;
    if (this.#group !== undefined) this.#commit();
    this.#exec('begin immediate');
    let result: T;
    try {
      result = work();
      this.#exec('commit');
    } catch (error) {
      this.#rollbackAll();
      throw error;
    }
    this.commits += 1;
    this.hooks.afterCommit?.(this.commits);
    return result;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    this.#begin(connection as Lease);
  }

  #begin(lease: Lease): void {
    // A group past its turn takes no one more: it commits, and a new one opens.
    if (this.#group?.due === true) this.#commit();
    if (this.#group === undefined) {
      this.#exec('begin immediate');
      const group = newGroup();
      this.#group = group;
      setImmediate(() => {
        group.due = true;
        if (this.#group === group && !this.#holder?.inTransaction) this.#commit();
      });
    }
    this.#group.size += 1;
    lease.inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    lease.inTransaction = false;
    const group = this.#group;
    if (group === undefined) throw new Error('group commit: a transaction ended outside its group');
    if (lease.writes.length > 0) {
      group.writes.push(...lease.writes);
      lease.writes = [];
    }
    if (group.size >= MAX_GROUP_SIZE) this.#commit();
    // Let the next transaction in while this one waits for the group's commit.
    this.#release(lease);
    await group.done;
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    this.#rollback(connection as Lease);
  }

  #rollback(lease: Lease): void {
    // Released into a group whose commit then failed: there is nothing left to undo.
    if (!lease.inTransaction) return;
    lease.inTransaction = false;
    const undo = lease.writes.length > 0;
    lease.writes = [];
    if (!this.sqlite.inTransaction) {
      // SQLite rolled the whole transaction back itself (SQLITE_FULL, SQLITE_IOERR, …): the group is lost.
      this.#fail(new GroupRolledBack(new Error('SQLite rolled the transaction back')));
      return;
    }
    // Nothing of it is in the database: each statement that failed undid itself.
    if (!undo) return;
    const group = this.#group;
    try {
      if (group === undefined) throw new Error('group commit: a transaction rolled back outside its group');
      // Back to the group's start, then the writes of the transactions that succeeded before this one,
      // in their order, on the same state: they store what they stored (the same rows and ids) again.
      const version = this.#dataVersion();
      this.#exec('rollback');
      this.#exec('begin immediate');
      if (this.#dataVersion() !== version) throw new Error('another connection wrote while the group was being rolled back');
      this.replays += 1;
      for (const query of group.writes) this.#runStatement(this.#prepare(query.sql), query);
    } catch (error) {
      this.#fail(new GroupRolledBack(error));
      throw error;
    }
  }

  async destroy(): Promise<void> {
    if (this.#group !== undefined && !this.#holder?.inTransaction) this.#commit();
    await this.hooks.beforeClose?.();
    this.sqlite.close();
  }

  /** A statement, for a lease that holds the connection; outside a transaction, the open group commits first. */
  run<R>(lease: Runner, query: CompiledQuery): QueryResult<R> {
    if (!lease.inTransaction && this.#group !== undefined) this.#commit();
    const prepared = this.#prepare(query.sql);
    const result = this.#runStatement<R>(prepared, query);
    // Recorded once it has succeeded (one that failed changed nothing), for a rollback of its transaction.
    if (prepared.writes && lease.inTransaction) lease.writes.push(query);
    return result;
  }

  #runStatement<R>({ statement, toRow }: Prepared, query: CompiledQuery): QueryResult<R> {
    if (toRow !== undefined) return { rows: (statement.all(query.parameters) as unknown[][]).map(toRow) as R[] };
    if (statement.reader) return { rows: statement.all(query.parameters) as R[] };
    const { changes, lastInsertRowid } = statement.run(query.parameters);
    // A schema change can change what a kept `select *` returns: its row maker would be stale.
    if (SCHEMA_CHANGE.test(query.sql)) this.#statements.clear();
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  *iterate<R>(lease: Runner, query: CompiledQuery): IterableIterator<R> {
    if (!lease.inTransaction && this.#group !== undefined) this.#commit();
    const { statement, toRow } = this.#prepare(query.sql);
    for (const row of statement.iterate(query.parameters)) yield (toRow === undefined ? row : toRow(row as unknown[])) as R;
  }

  #release(lease: Lease): void {
    if (!lease.holdsConnection || this.#holder !== lease) return;
    lease.holdsConnection = false;
    if (lease.inTransaction) {
      // Kysely always commits or rolls back first; a lease let go mid-transaction must not leave its writes in the group.
      this.#fail(new GroupRolledBack(new Error('a transaction was released without commit or rollback')));
    }
    if (this.#group?.due === true) this.#commit();
    const next = this.#waiting.shift();
    if (next === undefined) {
      this.#holder = undefined;
      return;
    }
    this.#holder = new Lease(this);
    next(this.#holder);
  }

  #commit(): void {
    const group = this.#group;
    if (group === undefined) return;
    this.#group = undefined;
    try {
      this.#exec('commit');
    } catch (error) {
      this.#rollbackAll();
      group.reject(new GroupRolledBack(error));
      return;
    }
    this.commits += 1;
    this.hooks.afterCommit?.(this.commits);
    group.resolve();
  }

  #fail(error: unknown): void {
    const group = this.#group;
    if (group === undefined) return;
    this.#group = undefined;
    this.#rollbackAll();
    group.reject(error);
  }

  #rollbackAll(): void {
    if (!this.sqlite.inTransaction) return;
    try {
      this.#exec('rollback');
    } catch {
      // Nothing more can be done; SQLite ends a transaction it cannot roll back by itself.
    }
  }

  #exec(sql: string): void {
    this.#prepare(sql).statement.run();
  }

  /** Changes when another connection commits (PRAGMA data_version), whatever this one does. */
  #dataVersion(): unknown {
    return this.sqlite.pragma('data_version', { simple: true });
  }

  #prepare(sql: string): Prepared {
    let prepared = this.#statements.get(sql);
    if (prepared === undefined) {
      prepared = withRowMaker(this.sqlite.prepare(sql));
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.delete(this.#statements.keys().next().value as string);
      this.#statements.set(sql, prepared);
    }
    return prepared;
  }
}

/**
 * Kysely's SQLite adapter takes no migration lock (it assumes one process) and migrates outside a
 * transaction. SQLite's DDL is transactional, so migrate in one transaction, which `begin immediate`
 * makes the lock: a second process starting on the same file waits, then finds nothing to do.
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * SQLite as better-sqlite3 builds it (with STAT4) marks a statement to be prepared again whenever a
 * new value is bound to a bare `limit ?`, since a limit may change the plan: every page read parsed
 * and planned its SQL anew (4 µs of the 13 µs that a page of ten messages costs). The limit written
 * `cast(? as integer)` is the same number to SQLite (an integer passes unchanged, and a limit must be
 * one in any case), but an expression, not a parameter, so the kept plan stays.
 */
class SqliteStableLimitCompiler extends SqliteQueryCompiler {
  protected override visitLimit(node: LimitNode): void {
    if (!ValueNode.is(node.limit) || node.limit.immediate === true) {
      super.visitLimit(node);
      return;
    }
    this.append('limit cast(');
    this.visitNode(node.limit);
    this.append(' as integer)');
  }
}

/** SQLite through the group-commit driver, migrating in one transaction, with limits that keep their plans. */
export class GroupCommitSqliteDialect extends SqliteDialect {
  readonly driver: GroupCommitSqliteDriver;

  constructor(sqlite: BetterSqlite3.Database, hooks: SqliteConnectionHooks = {}) {
    super({ database: sqlite });
    this.driver = new GroupCommitSqliteDriver(sqlite, this, hooks);
  }

  override createDriver(): Driver {
    return this.driver;
  }

  override createAdapter(): SqliteAdapter {
    const adapter = new TransactionalSqliteAdapter();
    DRIVER_OF_ADAPTER.set(adapter, this.driver);
    return adapter;
  }

  override createQueryCompiler(): QueryCompiler {
    return new SqliteStableLimitCompiler();
  }
}
