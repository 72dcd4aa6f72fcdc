/**
 * The one place that knows which database we talk to. `DATABASE_URL` picks the dialect;
 * everything else (repositories, migrations) writes SQL both SQLite and PostgreSQL accept.
 * It also decides how long the database may make a request wait, and which failures mean
 * "the database is unavailable right now" (answered 503) rather than a bug.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresAdapter, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import SqliteDatabase, { SQLITE_MODULE_PATH } from './better-sqlite3.js';
import type { Database } from './database.js';
import { type Checkpointer, CHECKPOINTER_AFTER_COMMITS, startCheckpointer } from './sqlite-checkpointer.js';
import { bindTransaction, GroupCommitSqliteDialect, transactAtOnce } from './sqlite-group-commit.js';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
}

/** Where connection trouble is reported; Fastify's logger fits. */
export interface DatabaseLog {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface DatabaseOptions {
  /** PostgreSQL only: schema to use (tests get one each); created if missing */
  schema?: string;
  poolMax?: number;
  /** SQLite only: NORMAL (default) or FULL */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  /**
   * The longest the database may make a caller wait (DATABASE_TIMEOUT_MS): connecting, waiting for a
   * pooled connection, each PostgreSQL statement, SQLite's write lock. Default 5000.
   */
  timeoutMs?: number;
  /**
   * PostgreSQL: bound each statement by `timeoutMs` too. The service's requests do; migrations and the
   * command-line tools do not (default): an index build, or waiting for another instance's
   * migration, may take longer than a request may.
   */
  limitStatements?: boolean;
  /** where lost connections are reported; without it, the first one is written to stderr */
  log?: DatabaseLog;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** The client-side bound waits this much longer than the server's statement_timeout, so the server's cleaner error comes first. */
const CLIENT_TIMEOUT_MARGIN_MS = 250;

function openSqlite(url: string, options: DatabaseOptions): DatabaseHandle {
  const file = url.slice('sqlite:'.length);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  try {
    // First, so that even switching to WAL waits for another process that holds the file.
    sqlite.pragma(`busy_timeout = ${Math.trunc(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)}`);
    // WAL lets readers run beside the writer; NORMAL sync keeps every acknowledged write across a
    // process crash, FULL also across power loss (at the cost of an fsync per commit).
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`synchronous = ${options.sqliteSynchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    sqlite.pragma('foreign_keys = ON');
    // Reads through a memory map skip a copy per page: about a third off a small SELECT here.
    if (file !== ':memory:') sqlite.pragma('mmap_size = 268435456');
    // The temporary tables of a statement (an IN list's values, RETURNING's rows, a sort without an
    // index) in memory, not in a temporary file's pager: opened inside a write's savepoint, such a
    // pager cost about 10 µs in malloc's brk calls each time (an upsert returning two rows: 18 → 5 µs).
    sqlite.pragma('temp_store = MEMORY');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  // Checkpoints (and their fsyncs) run in a worker thread, not in the commit that happens to fill the
  // WAL. It starts once the service writes in earnest: a service that only reads (or has just migrated)
  // spends no thread on it, and until then SQLite checkpoints in the commit as before.
  let checkpointer: Checkpointer | undefined;
  const startCheckpoints = (): void => {
    const log = options.log ?? stderrOnce();
    const stopped = (error: unknown) => log.warn({ err: error }, 'SQLite: no checkpoint worker; checkpoints run in the commits, as SQLite does by default');
    try {
      checkpointer = startCheckpointer({
        file,
        modulePath: SQLITE_MODULE_PATH,
        synchronous: options.sqliteSynchronous === 'FULL' ? 'FULL' : 'NORMAL',
        setAutocheckpoint: (pages) => {
          if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${pages}`);
        },
        onStopped: stopped,
      });
    } catch (error) {
      stopped(error);
    }
  };
  const dialect = new GroupCommitSqliteDialect(sqlite, {
    afterCommit: (commits) => {
      if (commits === CHECKPOINTER_AFTER_COMMITS && file !== ':memory:') startCheckpoints();
    },
    beforeClose: async () => checkpointer?.close(),
  });
  return { db: new Kysely<Database>({ dialect }), dialect: 'sqlite' };
}

/** The first lost connection goes to stderr when no logger was given (the command-line tools). */
function stderrOnce(): DatabaseLog {
  let warned = false;
  return {
    warn(details, message) {
      if (warned) return;
      warned = true;
      console.warn(message, details);
    },
  };
}

/**
 * What Kysely gets instead of the pool. pg's client-side query_timeout fails the query but leaves
 * it running on the connection, which would then serve the next request stuck behind it: a client
 * whose query timed out is destroyed on release instead of going back to the pool.
 */
function discardingTimedOutClients(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let timedOut = false;
      // Kysely calls only the (sql, parameters) form (no cursor is configured, so nothing streams), and
      // pg's result has the fields Kysely reads, typed more loosely: hence the cast below.
      const query = async (text: string, parameters: readonly unknown[]) => {
        try {
          return await client.query(text, [...parameters]);
        } catch (error) {
          if (error instanceof Error && error.message === 'Query read timeout') timedOut = true;
          throw error;
        }
      };
      return {
        query: query as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy === true || timedOut),
      };
    },
    end: () => pool.end(),
  };
}

function openPostgres(url: string, options: DatabaseOptions): DatabaseHandle {
  // int8 (COUNT, SUM) comes back as text by default; our counts fit in a double exactly.
  pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
  const timeoutMs = Math.trunc(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const limitStatements = options.limitStatements ?? false;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 10,
    // Bounds both opening a connection and waiting for a free one in the pool.
    connectionTimeoutMillis: timeoutMs,
    // The server cancels a slow statement; the client gives up too when no answer comes at all (a
    // network that drops packets), so no request waits on the database for good.
    ...(limitStatements ? { statement_timeout: timeoutMs, query_timeout: timeoutMs + CLIENT_TIMEOUT_MARGIN_MS } : {}),
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  const log = options.log ?? stderrOnce();
  // A connection lost while idle in the pool (the server restarted) is reported here, and an
  // EventEmitter's 'error' without a listener would end the process. pg removes the client itself.
  // (Only code and message: pg attaches the whole client to the error, far too much for a log line.)
  pool.on('error', (error: Error & { code?: string }) =>
    log.warn({ code: error.code, error: error.message }, 'database connection lost; the next request opens a new one'),
  );
  // A checked-out client has no pool listener; losing its connection between two statements would
  // emit an unhandled 'error'. The statement in flight, or the next one, fails with it and is answered 503.
  pool.on('connect', (client) => client.on('error', () => {}));
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: discardingTimedOutClients(pool) }) }), dialect: 'postgres' };
}

export function createDatabase(url: string, options: DatabaseOptions = {}): DatabaseHandle {
  return url.startsWith('sqlite:') ? openSqlite(url, options) : openPostgres(url, options);
}

/** A unique constraint refused the write (duplicate email, a report already in the ledger). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** Socket errors of a database that is down, restarting or unreachable. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * PostgreSQL: administrator / crash / cannot-connect-now shutdowns (57P01-57P03), too many
 * connections (53300), and a statement cancelled by statement_timeout (57014; we set no other cancel).
 * Class 08 (connection exceptions) is matched by prefix.
 */
const POSTGRES_UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);
/** pg and pg-pool report lost connections and timeouts in words only. */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/, // unexpectedly, or "due to connection timeout"
  /^timeout exceeded when trying to connect$/, // no free pooled connection in time
  /^Query read timeout$/,
  /is not queryable$/, // a client whose connection already failed
  /^Cannot use a pool after calling end on the pool$/, // shutting down
  /^Postgres connection has been discarded$/,
];

/**
 * The database cannot serve the request right now, though nothing is wrong with the request:
 * PostgreSQL down, restarting or too slow; SQLite's write lock held past the busy timeout by
 * another process. Answered 503 with Retry-After; the service heals when the database does.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { code, syscall, message, cause } = error as { code?: unknown; syscall?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return true;
    // A Unix-socket path that is missing while the server is down.
    if (code === 'ENOENT' && syscall === 'connect') return true;
    if (/^08[0-9A-Z]{3}$/.test(code) || POSTGRES_UNAVAILABLE_CODES.has(code)) return true;
    if (code.startsWith('SQLITE_BUSY')) return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  // Connecting to "localhost" tries every address and fails with all of their errors at once.
  if (error instanceof AggregateError && error.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}

/** A foreign key refused the write: the referenced user does not exist. */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

/** Runs `work` in a transaction: a new one, or the one `db` already is. */
export async function inTransaction<DB, T>(db: Kysely<DB>, work: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db);
  const atOnce = transactAtOnce(db, work);
  if (atOnce !== undefined) return atOnce;
  return db.transaction().execute((trx) => {
    // SQLite: the transaction's prepared statements then run on its connection at once (runAtOnce).
    bindTransaction(trx);
    return work(trx);
  });
}

/** Which database a handle (or a transaction of it) talks to, asked of the handle itself. */
export function dialectOf(db: { getExecutor(): { adapter: unknown } }): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Each id once, ascending: the order row locks are taken in (no two writers wait in a circle), and what lookupEach asks. */
export function distinctIds(ids: readonly number[]): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

/**
 * One lookup per value, joined by `union all`: the rows come in the values' order. For SQLite, where
 * `column in (…)` builds a temporary B-tree of the values on every call (opened, filled and closed:
 * some 20,000 instructions, more than the lookups of a few values cost). The values must be distinct
 * (distinctIds), and few (SQLite allows 500 selects in one compound; a batch here has at most 10).
 */
export function lookupEach<Q extends { unionAll(other: Q): Q }>(values: readonly number[], lookup: (value: number) => Q): Q {
  const [first, ...rest] = values;
  if (first === undefined) throw new Error('lookupEach: no values');
  return rest.reduce((query, value) => query.unionAll(lookup(value)), lookup(first));
}

/**
 * `SELECT … FOR UPDATE` (or `FOR NO KEY UPDATE`, which still lets other rows reference the locked
 * one) where the database has row locks; SQLite's writers are serialised by BEGIN IMMEDIATE instead.
 */
export function lockRowsForUpdate<Q extends { forUpdate(): Q; forNoKeyUpdate(): Q }>(
  db: { getExecutor(): { adapter: unknown } },
  query: Q,
  strength: 'update' | 'no key update' = 'update',
): Q {
  if (dialectOf(db) !== 'postgres') return query;
  return strength === 'update' ? query.forUpdate() : query.forNoKeyUpdate();
}
