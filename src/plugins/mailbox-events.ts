/**
 * Mailbox states and push: `app.mailboxEvents` names states (mailbox-state.ts), tells every instance
 * when mailboxes move a step (push-transports.ts), and holds this instance's open streams
 * (event-streams.ts). Streams end when the server begins to close, so shutdown is not held up by them.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import { dialectOf } from '../db/create-db.js';
import type { Database } from '../db/database.js';
import { EventStreams } from '../modules/mailbox/event-streams.js';
import { type AdvancedStates, currentSeqs } from '../modules/mailbox/mailbox-changes.repository.js';
import { databaseTag, encodeState, type MailboxState, wholeStep } from '../modules/mailbox/mailbox-state.js';
import { MemoryTransport, PostgresTransport, type PushTransport, RedisTransport, type StateNotice } from '../modules/mailbox/push-transports.js';
import { databaseGeneration } from '../modules/spam/spam-ledger.repository.js';

declare module 'fastify' {
  interface FastifyInstance {
    mailboxEvents: MailboxEvents;
  }
}

/** The least time between two publishes of an instance's notices (see MailboxEvents.changed). */
export const PUBLISH_INTERVAL_MS = 10;

export class MailboxEvents {
  constructor(
    private readonly db: Kysely<Database>,
    /** this database's tag: states of another database are told apart */
    readonly tag: string,
    readonly transport: PushTransport,
    readonly streams: EventStreams,
    private readonly log: FastifyBaseLogger,
  ) {}

  stateText(state: MailboxState): string {
    return encodeState(this.tag, state);
  }

  /** Notices gathered since the last publish: user → newest step. */
  private pending = new Map<number, number>();
  /** When the last publish went out (performance.now()), and the publish waiting to go, if any. */
  private lastPublishAt = Number.NEGATIVE_INFINITY;
  private scheduled: { cancel(): void } | undefined;

  /**
   * After a commit: every instance's streams of these users hear their new states. Never throws.
   * Notices go out together, in one message, at most once every PUBLISH_INTERVAL_MS: the first after a
   * quiet spell at the end of its event-loop turn, later ones gathered until the interval is up. A PUBLISH
   * is a write to Redis's socket, which the kernel delivers there and then: one per commit group was 5% of
   * a create's time under load; one each 10 ms is at most 100 a second, and a notice waits 10 ms at most.
   */
  changed(states: AdvancedStates): void {
    if (states.size === 0) return;
    const first = this.pending.size === 0;
    for (const [userId, seq] of states) this.pending.set(userId, Math.max(seq, this.pending.get(userId) ?? 0));
    if (first) this.schedule(false);
  }

  /** Publishes at the end of this turn if the interval is up, else sets a timer for when it is. */
  private schedule(fromTimer: boolean): void {
    const wait = this.lastPublishAt + PUBLISH_INTERVAL_MS - performance.now();
    if (wait > 0) {
      // A timer counts from the event loop's clock, read when the turn began: it may fire early, so it looks again.
      const timer = setTimeout(() => this.schedule(true), Math.ceil(wait));
      this.scheduled = { cancel: () => clearTimeout(timer) };
    } else if (fromTimer) {
      void this.publishPending();
    } else {
      const immediate = setImmediate(() => void this.publishPending());
      this.scheduled = { cancel: () => clearImmediate(immediate) };
    }
  }

  /** Publishes what is gathered now (at close: before the transport goes). */
  publishPending(): Promise<void> {
    this.scheduled?.cancel();
    this.scheduled = undefined;
    if (this.pending.size === 0) return Promise.resolve();
    const notices: StateNotice[] = [...this.pending].map(([userId, seq]) => ({ userId, seq }));
    this.pending = new Map();
    this.lastPublishAt = performance.now();
    return this.transport.publish(notices);
  }

  /** After push was cut off: each open stream's user's state is read again, and sent if it moved. */
  async resync(): Promise<void> {
    try {
      for (const [userId, seq] of await currentSeqs(this.db, this.streams.users())) this.streams.notify(userId, seq);
    } catch (error) {
      this.log.warn({ err: error }, 'push: could not read the states of open streams again');
    }
  }
}

function chooseTransport(app: FastifyInstance, config: Config, tag: string): PushTransport {
  if (dialectOf(app.db) === 'postgres') return new PostgresTransport(app.db, config.databaseUrl, tag, app.log);
  if (config.redisUrl) return new RedisTransport(config.redisUrl, config.redisKeyPrefix, config.redisTimeoutMs, tag, app.log);
  return new MemoryTransport();
}

async function mailboxEventsPlugin(app: FastifyInstance, options: { config: Config }) {
  const tag = databaseTag(await databaseGeneration(app.db));
  const transport = chooseTransport(app, options.config, tag);
  const streams = new EventStreams({ ...options.config.events, stateOf: (seq) => encodeState(tag, wholeStep(seq)) });
  const events = new MailboxEvents(app.db, tag, transport, streams, app.log);
  await transport.start(
    (notices) => {
      for (const notice of notices) streams.notify(notice.userId, notice.seq);
    },
    () => void events.resync(),
  );
  app.log.debug({ transport: transport.name }, 'push: mailbox notices travel by this transport');
  app.decorate('mailboxEvents', events);
  app.addHook('preClose', async () => streams.closeAll());
  app.addHook('onClose', async () => {
    // Notices still gathered go out first: their writes are committed.
    await events.publishPending();
    await transport.close();
  });
}

export default fp(mailboxEventsPlugin, { name: 'mailbox-events', dependencies: ['db'] });
