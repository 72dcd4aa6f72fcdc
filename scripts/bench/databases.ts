/**
 * The bench's databases, each new and its own: a SQLite file in the run's scratch folder, or a
 * PostgreSQL database made for the run (`CREATE DATABASE bench_…` on the server of BENCH_DATABASE_URL)
 * and dropped at its end. The service takes no schema from its environment (a schema is a
 * createDatabase option the tests use), so a whole database it is.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

export type BenchDialect = 'sqlite' | 'postgres';

export const DEFAULT_BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDatabase {
  dialect: BenchDialect;
  /** the service's DATABASE_URL */
  url: string;
  /** what to call it in the output (no password) */
  label: string;
  /** PostgreSQL: the server processes (backends) connected to it now; SQLite runs inside the service: none */
  backendPids(): Promise<number[]>;
  /**
   * PostgreSQL: ANALYZE, what autovacuum does within a minute or so of a bulk write; the bench measures
   * the steady state, not the planner's guesses about tables it has no statistics of yet. SQLite: nothing
   * (the service never runs ANALYZE there).
   */
  analyze(): Promise<void>;
  /** removes it (SQLite: the scratch folder goes as a whole) */
  drop(): Promise<void>;
}

/** The URL with another database name (and without its password, for showing). */
function withDatabase(serverUrl: string, name: string, hidePassword = false): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  if (hidePassword && url.password) url.password = '***';
  return url.toString();
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A new database named after `purpose` (small, large). */
export async function createBenchDatabase(dialect: BenchDialect, purpose: string, scratchFolder: string): Promise<BenchDatabase> {
  if (dialect === 'sqlite') {
    const file = join(scratchFolder, `${purpose}.db`);
    return { dialect, url: `sqlite:${file}`, label: `sqlite:${file}`, backendPids: async () => [], analyze: async () => {}, drop: async () => {} };
  }
  const serverUrl = process.env.BENCH_DATABASE_URL || DEFAULT_BENCH_DATABASE_URL;
  // Lower case letters, digits and _: no quoting needed.
  const name = `bench_${process.pid}_${randomBytes(3).toString('hex')}_${purpose}`;
  await onServer(serverUrl, `create database ${name}`);
  let dropped = false;
  // One connection to the server's own database for the questions about this one (not counted among its backends).
  let monitor: pg.Pool | undefined;
  return {
    dialect,
    url: withDatabase(serverUrl, name),
    label: withDatabase(serverUrl, name, true),
    async backendPids() {
      monitor ??= new pg.Pool({ connectionString: serverUrl, max: 1 });
      const { rows } = await monitor.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [name]);
      return rows.map((row) => row.pid);
    },
    analyze: () => onServer(withDatabase(serverUrl, name), 'analyze'),
    async drop() {
      if (dropped) return;
      dropped = true;
      await monitor?.end();
      // WITH (FORCE): PostgreSQL 13 and later; a service that did not stop in time must not keep it.
      await onServer(serverUrl, `drop database if exists ${name} with (force)`);
    },
  };
}
