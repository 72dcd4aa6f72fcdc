/**
 * How a mailbox's new state travels from the instance that made the change to every instance's
 * streams. One of three, by what the deployment has:
 * - PostgreSQL: NOTIFY on the database itself, LISTENed to on one connection per instance. The
 *   database that holds the changes carries their notices, so push needs nothing more than it, and
 *   works whenever the data does (Redis may be down or absent).
 * - Redis pub/sub, on SQLite with REDIS_URL (several processes sharing a database file).
 * - In-process, on SQLite without Redis: a single process is the whole deployment.
 *
 * A notice names users and the steps their mailboxes reached, under the database's tag (so two
 * databases sharing a PostgreSQL server or a Redis do not hear each other). Notices are hints, never
 * the truth: a lost one (the link was down) is made good by a resync when the link comes back, which
 * re-reads every open stream's state.
 */
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../../db/database.js';

export interface StateNotice {
  userId: number;
  seq: number;
}

export interface PushTransport {
  readonly name: 'postgres' | 'redis' | 'memory';
  /** Sends notices to every instance (this one included). Never throws: a notice that cannot go is logged. */
  publish(notices: readonly StateNotice[]): Promise<void>;
  /** Starts hearing notices; `resync` is called after the link was lost and is back. */
  start(onNotices: (notices: StateNotice[]) => void, resync: () => void): Promise<void>;
  close(): Promise<void>;
}

/** What the push connections call themselves (pg_stat_activity's application_name; Redis CLIENT LIST's name, with dashes). */
export const PUSH_APPLICATION_NAME = 'inbox-api push';

/** PostgreSQL's NOTIFY payload is at most 8,000 bytes: notices go in chunks well under it. */
const NOTICES_PER_MESSAGE = 200;
const CHANNEL = 'inbox_mailbox_states';

/** `<tag>|<user>:<seq>,<user>:<seq>…` */
function encodeNotices(tag: string, notices: readonly StateNotice[]): string[] {
  const messages = [];
  for (let start = 0; start < notices.length; start += NOTICES_PER_MESSAGE) {
    const chunk = notices.slice(start, start + NOTICES_PER_MESSAGE);
    messages.push(`${tag}|${chunk.map((notice) => `${notice.userId}:${notice.seq}`).join(',')}`);
  }
  return messages;
}

/** The notices of a payload under our tag; anything else (another database's, garbage) is none. */
export function decodeNotices(tag: string, payload: string): StateNotice[] {
  const [payloadTag, list] = payload.split('|');
  if (payloadTag !== tag || list === undefined) return [];
  const notices: StateNotice[] = [];
  for (const entry of list.split(',')) {
    const match = /^(\d{1,16}):(\d{1,16})$/.exec(entry);
    if (match) notices.push({ userId: Number(match[1]), seq: Number(match[2]) });
  }
  return notices;
}

export class MemoryTransport implements PushTransport {
  readonly name = 'memory';
  private readonly emitter = new EventEmitter();

  async publish(notices: readonly StateNotice[]): Promise<void> {
    // After the current request's work, as a real transport would deliver.
    setImmediate(() => this.emitter.emit('notices', [...notices]));
  }

  async start(onNotices: (notices: StateNotice[]) => void): Promise<void> {
    this.emitter.on('notices', onNotices);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

export class RedisTransport implements PushTransport {
  readonly name = 'redis';
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channel: string;
  private failing = false;

  constructor(
    url: string,
    keyPrefix: string,
    timeoutMs: number,
    private readonly tag: string,
    private readonly log: FastifyBaseLogger,
  ) {
    this.channel = `${keyPrefix}mailbox:states`;
    const options = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: timeoutMs, retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000) };
    this.publisher = new Redis(url, { ...options, connectionName: `${PUSH_APPLICATION_NAME.replace(' ', '-')}-publish` });
    // The subscriber queues its SUBSCRIBE until connected, and ioredis subscribes again after every reconnect.
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true, commandTimeout: undefined, connectionName: `${PUSH_APPLICATION_NAME.replace(' ', '-')}-subscribe` });
    for (const client of [this.publisher, this.subscriber]) client.on('error', (error: Error) => log.debug({ err: error }, 'push: redis error'));
  }

  async publish(notices: readonly StateNotice[]): Promise<void> {
    try {
      for (const message of encodeNotices(this.tag, notices)) await this.publisher.publish(this.channel, message);
      this.failing = false;
    } catch (error) {
      // Once per outage, not once per write.
      if (!this.failing) this.log.warn({ err: error }, 'push: mailbox notices cannot be published to Redis; streams catch up when it is back');
      this.failing = true;
    }
  }

  async start(onNotices: (notices: StateNotice[]) => void, resync: () => void): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) onNotices(decodeNotices(this.tag, message));
    });
    // Every (re)connection: notices published while this instance was not subscribed are lost, so open streams read their states again.
    this.subscriber.on('ready', resync);
    // Not awaited: an instance starts (and serves changes) while Redis is away; push follows when it is back.
    this.subscriber.subscribe(this.channel).catch((error: unknown) => this.log.warn({ err: error }, 'push: cannot subscribe yet'));
  }

  async close(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}

const LISTEN_CONNECT_TIMEOUT_MS = 5000;
const FIRST_RECONNECT_MS = 250;
const LAST_RECONNECT_MS = 5000;

export class PostgresTransport implements PushTransport {
  readonly name = 'postgres';
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly url: string,
    private readonly tag: string,
    private readonly log: FastifyBaseLogger,
  ) {}

  async publish(notices: readonly StateNotice[]): Promise<void> {
    try {
      for (const message of encodeNotices(this.tag, notices)) await sql`select pg_notify(${CHANNEL}, ${message})`.execute(this.db);
    } catch (error) {
      this.log.warn({ err: error }, 'push: a mailbox notice could not be sent; streams catch up when the database is back');
    }
  }

  async start(onNotices: (notices: StateNotice[]) => void, resync: () => void): Promise<void> {
    const connect = async (attempt: number): Promise<void> => {
      if (this.closed) return;
      const client = new pg.Client({
        connectionString: this.url,
        application_name: PUSH_APPLICATION_NAME,
        connectionTimeoutMillis: LISTEN_CONNECT_TIMEOUT_MS,
        // A connection that died without a word (a network gone) is noticed by TCP keep-alive, then replaced.
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      });
      const retry = () => {
        if (this.closed || this.client !== client) return;
        this.client = undefined;
        client.removeAllListeners();
        client.on('error', () => {});
        void client.end().catch(() => {});
        const delay = Math.min(FIRST_RECONNECT_MS * 2 ** attempt, LAST_RECONNECT_MS);
        this.reconnectTimer = setTimeout(() => void connect(attempt + 1), delay);
      };
      this.client = client;
      client.on('error', (error: Error) => {
        this.log.warn({ err: error.message }, 'push: lost the LISTEN connection to the database; reconnecting');
        retry();
      });
      client.on('end', retry);
      client.on('notification', (message) => {
        if (message.channel === CHANNEL && message.payload !== undefined) onNotices(decodeNotices(this.tag, message.payload));
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANNEL}`);
        // Notices sent while this instance was not listening (before its first LISTEN, or while the link was down)
        // are lost: every open stream reads its state again.
        resync();
      } catch (error) {
        if (attempt === 0) this.log.warn({ err: (error as Error).message }, 'push: cannot LISTEN yet; retrying');
        retry();
      }
    };
    // Not awaited: the instance starts and serves while the database is still coming; push follows.
    void connect(0);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
    }
  }
}
