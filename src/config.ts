/**
 * The only file that reads the environment. loadConfig validates every variable once and
 * returns a frozen Config; buildApp takes it as an argument so tests can pass overrides.
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { isEmailAddress, normalizeEmail } from './email.js';
import { MAX_BODY_LIMIT_BYTES } from './limits.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** off: the contract as the original had it; optional: a token makes ownership apply; required: no token, no access. */
export type AuthMode = 'off' | 'optional' | 'required';

/** Per-minute budgets; 0 switches a limit off. All 0 unless limits are on (see readRateLimits). */
export interface RateLimits {
  /** failed POST /token attempts per client address, whatever the account */
  readonly loginPerAddress: number;
  /** failed POST /token attempts per (account, client address) */
  readonly loginPerAccountAndAddress: number;
  /** failed POST /token attempts per account from all addresses together: large, so strangers cannot lock the owner out */
  readonly loginPerAccount: number;
  /** POST /users/ per client address */
  readonly signupPerMinute: number;
  /** POST /msg/create/ per sender */
  readonly messagesPerMinute: number;
}

/** Fastify's trustProxy: false (the socket's address), true (every hop), or the proxies' addresses and CIDR ranges. */
export type TrustProxy = boolean | readonly string[];

/** How long a client may take; every value is in milliseconds. */
export interface HttpTimeouts {
  /** from the connection's first byte to the end of the request headers */
  readonly headersMs: number;
  /** from the first byte to the end of the whole request, body included */
  readonly requestMs: number;
  /** an idle keep-alive connection is closed after this */
  readonly keepAliveMs: number;
  /** a socket on which nothing moves in either direction for this long is closed */
  readonly socketIdleMs: number;
}

export interface EventsSettings {
  /** open streams per user on one instance; a new one closes the oldest beyond this */
  readonly maxPerUser: number;
  /** open streams per instance; beyond this a new one is answered 503 */
  readonly maxStreams: number;
  /** a comment line this often on every stream */
  readonly heartbeatMs: number;
  /** at most one state event per stream this often (bursts are coalesced into the newest state) */
  readonly minIntervalMs: number;
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
  readonly httpTimeouts: HttpTimeouts;
  /** how long a database connection attempt or statement may take before the request answers 503 */
  readonly databaseTimeoutMs: number;
  /** sign-up passwords: at least this many characters */
  readonly passwordMinLength: number;
  readonly logLevel: LogLevel;
  readonly authMode: AuthMode;
  /** HS256 signing key for access tokens; at least 32 bytes whenever authMode is not off */
  readonly authSecret: string | undefined;
  readonly authTokenTtlSeconds: number;
  /** the `iss` and `aud` claims of access tokens, checked on every request */
  readonly authTokenIssuer: string;
  readonly authTokenAudience: string;
  readonly rateLimits: RateLimits;
  /** which proxies' X-Forwarded-For to believe for the client's address */
  readonly trustProxy: TrustProxy;
  /** origins allowed to call the API from a browser; empty: CORS off */
  readonly corsOrigins: readonly string[];
  /** serve GET /metrics (Prometheus); false removes the route and stops collecting */
  readonly metricsEnabled: boolean;
  /** normalised (normalizeEmail) emails of the users who may read the moderation views when callers are known */
  readonly moderatorEmails: readonly string[];
  /** GET /users/{id}/events: the push streams' bounds and pace */
  readonly events: EventsSettings;
  /** worker processes serving one port (node:cluster); 1: this process serves */
  readonly webConcurrency: number;
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
    .map((email) => email.trim())
    .filter((email) => email !== '');
  for (const email of emails) {
    if (!isEmailAddress(email)) {
      throw new ConfigError('MODERATOR_EMAILS', `must be a comma-separated list of email addresses, got "${email}"`);
    }
  }
  return [...new Set(emails.map(normalizeEmail))];
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
}

const REPLACED: Record<string, string> = {
  RATE_LIMIT_TOKEN_PER_MINUTE: 'RATE_LIMIT_LOGIN_PER_ADDRESS, RATE_LIMIT_LOGIN_PER_ACCOUNT_ADDRESS and RATE_LIMIT_LOGIN_PER_ACCOUNT',
};

/**
 * Abuse limits. RATE_LIMITS=on|off switches the defaults; unset, they are on with authentication and
 * off in drop-in mode (AUTH_MODE=off), where the original had none. A limit set explicitly applies either way.
 */
function readRateLimits(env: Env, authMode: AuthMode): RateLimits {
  for (const [name, replacement] of Object.entries(REPLACED)) {
    if (env[name] !== undefined && env[name] !== '') throw new ConfigError(name, `was replaced by ${replacement}`);
  }
  const raw = env.RATE_LIMITS?.trim().toLowerCase();
  if (raw !== undefined && raw !== '' && raw !== 'on' && raw !== 'off') {
    throw new ConfigError('RATE_LIMITS', `must be on or off, got "${env.RATE_LIMITS}"`);
  }
  const onByDefault = raw === 'on' || ((raw === undefined || raw === '') && authMode !== 'off');
  const limit = (name: string, fallback: number) => readInteger(env, name, onByDefault ? fallback : 0, 0, 1_000_000);
  return Object.freeze({
    loginPerAddress: limit('RATE_LIMIT_LOGIN_PER_ADDRESS', 30),
    loginPerAccountAndAddress: limit('RATE_LIMIT_LOGIN_PER_ACCOUNT_ADDRESS', 10),
    loginPerAccount: limit('RATE_LIMIT_LOGIN_PER_ACCOUNT', 200),
    signupPerMinute: limit('RATE_LIMIT_SIGNUP_PER_MINUTE', 100),
    messagesPerMinute: limit('RATE_LIMIT_MESSAGES_PER_MINUTE', 600),
  });
}

const CIDR = /^(.+)\/(\d{1,3})$/;

function isAddressOrRange(value: string): boolean {
  const range = CIDR.exec(value);
  if (!range) return isIP(value) !== 0;
  const [, address = '', bits = ''] = range;
  const family = isIP(address);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * unset or false: the socket's address; true: every hop; else the proxies' addresses and CIDR ranges.
 * No hop count: it cannot tell a proxy from a client that sends its own X-Forwarded-For (Fastify refuses it too).
 */
function readTrustProxy(env: Env): TrustProxy {
  const raw = env.TRUST_PROXY?.trim() ?? '';
  if (raw === '' || raw.toLowerCase() === 'false') return false;
  if (raw.toLowerCase() === 'true') return true;
  if (/^\d+$/.test(raw)) {
    throw new ConfigError('TRUST_PROXY', `takes the proxies' addresses or CIDR ranges (or true), not a hop count: a hop count would trust any client, got "${raw}"`);
  }
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const entry of entries) {
    if (!isAddressOrRange(entry)) {
      throw new ConfigError('TRUST_PROXY', `must be false, true, or comma-separated proxy addresses or CIDR ranges, got "${entry}"`);
    }
  }
  return Object.freeze(entries);
}

/** WEB_CONCURRENCY: a number of workers, or `auto` for one per core the process may use. */
function readWebConcurrency(env: Env): number {
  const raw = env.WEB_CONCURRENCY?.trim() ?? '';
  if (raw === '') return 1;
  if (raw.toLowerCase() === 'auto') return availableParallelism();
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 256) {
    throw new ConfigError('WEB_CONCURRENCY', `must be a number of workers from 1 to 256, or auto (one per core), got "${raw}"`);
  }
  return Number(raw);
}

/**
 * What several workers cannot do: each would keep its own copy of something that must be one.
 * Answers the reason, or undefined when the configuration works with `workers` processes.
 */
export function clusterProblem(config: Pick<Config, 'databaseUrl' | 'redisUrl' | 'rateLimits'>, workers: number): string | undefined {
  if (workers <= 1) return undefined;
  if (config.databaseUrl === 'sqlite::memory:') {
    return 'DATABASE_URL=sqlite::memory: is a database per process: with WEB_CONCURRENCY above 1 every worker would have its own. Use a SQLite file or PostgreSQL.';
  }
  if (!config.redisUrl && config.databaseUrl.startsWith('sqlite:')) {
    return 'WEB_CONCURRENCY above 1 on SQLite needs REDIS_URL: push notices between workers go through Redis pub/sub (PostgreSQL carries them itself).';
  }
  if (!config.redisUrl && Object.values(config.rateLimits).some((limit) => limit > 0)) {
    return 'WEB_CONCURRENCY above 1 with rate limits needs REDIS_URL: without it each worker would count on its own. Set REDIS_URL, or RATE_LIMITS=off.';
  }
  return undefined;
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
    bodyLimitBytes: readInteger(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, MAX_BODY_LIMIT_BYTES),
    httpTimeouts: Object.freeze({
      headersMs: readInteger(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
      requestMs: readInteger(env, 'REQUEST_TIMEOUT_MS', 20_000, 100, 3_600_000),
      keepAliveMs: readInteger(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
      socketIdleMs: readInteger(env, 'SOCKET_IDLE_TIMEOUT_MS', 30_000, 100, 3_600_000),
    }),
    databaseTimeoutMs: readInteger(env, 'DATABASE_TIMEOUT_MS', 5000, 100, 600_000),
    passwordMinLength: readInteger(env, 'PASSWORD_MIN_LENGTH', 8, 1, 128),
    logLevel: readLogLevel(env),
    authMode,
    authSecret: readAuthSecret(env, authMode),
    authTokenTtlSeconds: readInteger(env, 'AUTH_TOKEN_TTL_SECONDS', 3600, 1, 365 * 24 * 3600),
    authTokenIssuer: env.AUTH_TOKEN_ISSUER?.trim() || 'inbox-api',
    authTokenAudience: env.AUTH_TOKEN_AUDIENCE?.trim() || 'inbox-api',
    rateLimits: readRateLimits(env, authMode),
    trustProxy: readTrustProxy(env),
    corsOrigins: Object.freeze(readCorsOrigins(env)),
    metricsEnabled: readBoolean(env, 'METRICS_ENABLED', true),
    moderatorEmails: Object.freeze(readModeratorEmails(env)),
    webConcurrency: readWebConcurrency(env),
    events: Object.freeze({
      maxPerUser: readInteger(env, 'EVENTS_MAX_STREAMS_PER_USER', 5, 1, 100),
      maxStreams: readInteger(env, 'EVENTS_MAX_STREAMS', 10_000, 1, 1_000_000),
      heartbeatMs: readInteger(env, 'EVENTS_HEARTBEAT_MS', 25_000, 100, 600_000),
      minIntervalMs: readInteger(env, 'EVENTS_MIN_INTERVAL_MS', 250, 0, 60_000),
    }),
  });
}
