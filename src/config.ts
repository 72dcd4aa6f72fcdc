/**
 * The only file that reads the environment. loadConfig validates every variable once and
 * returns a frozen Config; buildApp takes it as an argument so tests can pass overrides.
 */

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** `sqlite:<path>`, `sqlite::memory:` or `postgres://…` */
  readonly databaseUrl: string;
  /** SQLite: NORMAL keeps acknowledged writes across a process crash; FULL also across power loss */
  readonly sqliteSynchronous: 'NORMAL' | 'FULL';
  /** PostgreSQL connections per instance */
  readonly databasePoolMax: number;
  /** unset: spam counters are kept in-process (one instance only) */
  readonly redisUrl: string | undefined;
  /** prepended to every Redis key; empty in production, unique per test */
  readonly redisKeyPrefix: string;
  /** how long a Redis command may take before it fails */
  readonly redisTimeoutMs: number;
  readonly spamReportTtlSeconds: number;
  readonly bodyLimitBytes: number;
  readonly logLevel: LogLevel;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type Env = Record<string, string | undefined>;

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function readDatabaseUrl(env: Env): string {
  const raw = env.DATABASE_URL?.trim() || 'sqlite:data/inbox.db';
  if (raw.startsWith('sqlite:') && raw.length > 'sqlite:'.length) return raw;
  if (/^postgres(ql)?:\/\/.+/.test(raw)) return raw;
  throw new ConfigError('DATABASE_URL', `must be sqlite:<file>, sqlite::memory: or postgres://…, got "${raw}"`);
}

function readSqliteSynchronous(env: Env): 'NORMAL' | 'FULL' {
  const raw = (env.SQLITE_SYNCHRONOUS?.trim() || 'NORMAL').toUpperCase();
  if (raw === 'NORMAL' || raw === 'FULL') return raw;
  throw new ConfigError('SQLITE_SYNCHRONOUS', `must be NORMAL or FULL, got "${raw}"`);
}

function readRedisUrl(env: Env): string | undefined {
  const raw = env.REDIS_URL?.trim();
  if (!raw) return undefined;
  if (!/^rediss?:\/\/.+/.test(raw)) throw new ConfigError('REDIS_URL', `must start with redis:// or rediss://, got "${raw}"`);
  return raw;
}

function readLogLevel(env: Env): LogLevel {
  const raw = (env.LOG_LEVEL?.trim() || 'info').toLowerCase();
  const level = LOG_LEVELS.find((candidate) => candidate === raw);
  if (!level) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return level;
}

export function loadConfig(env: Env = process.env): Config {
  return Object.freeze({
    port: readInteger(env, 'PORT', 8000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    databaseUrl: readDatabaseUrl(env),
    sqliteSynchronous: readSqliteSynchronous(env),
    databasePoolMax: readInteger(env, 'DATABASE_POOL_MAX', 10, 1, 1000),
    redisUrl: readRedisUrl(env),
    redisKeyPrefix: env.REDIS_KEY_PREFIX ?? '',
    redisTimeoutMs: readInteger(env, 'REDIS_TIMEOUT_MS', 2000, 10, 60_000),
    spamReportTtlSeconds: readInteger(env, 'SPAM_REPORT_TTL_SECONDS', 604800, 1, 10 * 365 * 24 * 3600),
    bodyLimitBytes: readInteger(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    logLevel: readLogLevel(env),
  });
}
