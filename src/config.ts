/**
 * The only file that reads the environment. loadConfig validates every variable once and
 * returns a frozen Config; buildApp takes it as an argument so tests can pass overrides.
 */

import { isEmailAddress } from './validation.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** off: the contract as the original had it; optional: a token makes ownership apply; required: no token, no access. */
export type AuthMode = 'off' | 'optional' | 'required';

export interface RateLimits {
  /** POST /token attempts per email and, separately, per client IP; 0 disables */
  readonly tokenPerMinute: number;
  /** POST /users/ per client IP; 0 disables */
  readonly signupPerMinute: number;
  /** POST /msg/create/ per sender; 0 disables */
  readonly messagesPerMinute: number;
}

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
  readonly authMode: AuthMode;
  /** HS256 signing key for access tokens; at least 32 bytes whenever authMode is not off */
  readonly authSecret: string | undefined;
  readonly authTokenTtlSeconds: number;
  readonly rateLimits: RateLimits;
  /** origins allowed to call the API from a browser; empty: CORS off */
  readonly corsOrigins: readonly string[];
  /** serve GET /metrics (Prometheus); false removes the route and stops collecting */
  readonly metricsEnabled: boolean;
  /** lower-cased emails of the users who may read the moderation views when callers are known */
  readonly moderatorEmails: readonly string[];
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

const AUTH_MODES: readonly AuthMode[] = ['off', 'optional', 'required'];
const MIN_SECRET_BYTES = 32;

function readAuthMode(env: Env): AuthMode {
  const raw = (env.AUTH_MODE?.trim() || 'off').toLowerCase();
  const mode = AUTH_MODES.find((candidate) => candidate === raw);
  if (!mode) throw new ConfigError('AUTH_MODE', `must be one of ${AUTH_MODES.join(', ')}, got "${raw}"`);
  return mode;
}

function readAuthSecret(env: Env, mode: AuthMode): string | undefined {
  const raw = env.AUTH_SECRET;
  if (mode === 'off') return raw || undefined;
  if (!raw) throw new ConfigError('AUTH_SECRET', `is required when AUTH_MODE is ${mode} (at least ${MIN_SECRET_BYTES} random bytes)`);
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes < MIN_SECRET_BYTES) {
    throw new ConfigError('AUTH_SECRET', `must be at least ${MIN_SECRET_BYTES} bytes when AUTH_MODE is ${mode}, got ${bytes}`);
  }
  return raw;
}

function readCorsOrigins(env: Env): string[] {
  const origins = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError('CORS_ORIGINS', `must be a comma-separated list of origins such as https://app.example.com (or *), got "${origin}"`);
    }
  }
  return origins;
}

function readModeratorEmails(env: Env): string[] {
  const emails = (env.MODERATOR_EMAILS ?? '')
    .split(',')
    .map((email) => email.trim().toLowerCase())
    .filter((email) => email !== '');
  for (const email of emails) {
    if (!isEmailAddress(email)) {
      throw new ConfigError('MODERATOR_EMAILS', `must be a comma-separated list of email addresses, got "${email}"`);
    }
  }
  return [...new Set(emails)];
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
}

export function loadConfig(env: Env = process.env): Config {
  const authMode = readAuthMode(env);
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
    authMode,
    authSecret: readAuthSecret(env, authMode),
    authTokenTtlSeconds: readInteger(env, 'AUTH_TOKEN_TTL_SECONDS', 3600, 1, 365 * 24 * 3600),
    rateLimits: Object.freeze({
      tokenPerMinute: readInteger(env, 'RATE_LIMIT_TOKEN_PER_MINUTE', 20, 0, 1_000_000),
      signupPerMinute: readInteger(env, 'RATE_LIMIT_SIGNUP_PER_MINUTE', 100, 0, 1_000_000),
      messagesPerMinute: readInteger(env, 'RATE_LIMIT_MESSAGES_PER_MINUTE', 600, 0, 1_000_000),
    }),
    corsOrigins: Object.freeze(readCorsOrigins(env)),
    metricsEnabled: readBoolean(env, 'METRICS_ENABLED', true),
    moderatorEmails: Object.freeze(readModeratorEmails(env)),
  });
}
