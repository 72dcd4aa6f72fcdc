/**
 * The one place that knows which database we talk to. `DATABASE_URL` picks the dialect;
 * everything else (repositories, migrations) writes SQL both SQLite and PostgreSQL accept.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase as KyselySqliteDatabase } from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
}

export interface DatabaseOptions {
  /** PostgreSQL only: schema to use (tests get one each); created if missing */
  schema?: string;
  poolMax?: number;
  /** SQLite only: NORMAL (default) or FULL */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
}

function openSqlite(url: string, options: DatabaseOptions): DatabaseHandle {
  const file = url.slice('sqlite:'.length);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // WAL lets readers run beside the writer; NORMAL sync keeps every acknowledged write across a
  // process crash, FULL also across power loss (at the cost of an fsync per commit).
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.sqliteSynchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('foreign_keys = ON');
  // Reads through a memory map skip a copy per page: about a third off a small SELECT here.
  if (file !== ':memory:') sqlite.pragma('mmap_size = 268435456');
  sqlite.pragma('busy_timeout = 5000');
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }), dialect: 'sqlite' };
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew; the same few SQL strings repeat on every request, so keep
 * their prepared statements (better-sqlite3 statements are reusable; calls are synchronous).
 */
function withStatementCache(sqlite: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

function openPostgres(url: string, options: DatabaseOptions): DatabaseHandle {
  // int8 (COUNT, SUM) comes back as text by default; our counts fit in a double exactly.
  pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
}

export function createDatabase(url: string, options: DatabaseOptions = {}): DatabaseHandle {
  return url.startsWith('sqlite:') ? openSqlite(url, options) : openPostgres(url, options);
}

/** A unique constraint refused the write (duplicate email, a report already in the ledger). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** A foreign key refused the write: the referenced user does not exist. */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

/** `SELECT … FOR UPDATE` where the dialect has row locks; SQLite serializes writers and has none. */
export function lockRowsForUpdate<Q extends { forUpdate(): Q }>(query: Q, dialect: DialectName): Q {
  return dialect === 'postgres' ? query.forUpdate() : query;
}
