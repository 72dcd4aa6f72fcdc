/**
 * SQLite: moves new messages' words from `messages_search_pending` into the full-text index
 * (modules/mailbox/search-index.ts) every FLUSH_INTERVAL_MS, a batch at a time, and once more at close.
 * A full batch is followed by the next at once (after the I/O waiting meanwhile), so the pending rows
 * never pile up, however fast messages come. Searches read the pending rows too: nothing waits on this
 * but the index's tidiness. Any process on the file may move any process's rows (a process that stopped
 * leaves its rows to the others, or to its next start). PostgreSQL indexes each message as it stores it.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { dialectOf } from '../db/create-db.js';
import { countPendingWords, FLUSH_BATCH, flushPendingWords } from '../modules/mailbox/search-index.js';

/** How often the pending words are looked for (one indexed read when there are none). */
export const FLUSH_INTERVAL_MS = 200;

/** The metrics' view of the moving (SQLite only). */
export interface SearchFlushObserver {
  /** called once, with how to count the messages whose words wait (read when asked: search_words_pending) */
  watch(countPending: () => Promise<number>): void;
  /** each failed attempt to move them (search_flush_failures_total) */
  onFlushFailed(): void;
}

async function searchFlushPlugin(app: FastifyInstance, options: { observer?: SearchFlushObserver | undefined }) {
  if (dialectOf(app.db) !== 'sqlite') return;
  const { observer } = options;
  observer?.watch(() => countPendingWords(app.db));
  let running: Promise<void> | undefined;
  let failing = false;

  const flush = async (): Promise<void> => {
    try {
      while ((await flushPendingWords(app.db)) === FLUSH_BATCH) await new Promise((resolve) => setImmediate(resolve));
      failing = false;
    } catch (error) {
      observer?.onFlushFailed();
      // Once per outage (the write lock held elsewhere, a full disk), not every interval; the rows stay searchable meanwhile.
      if (!failing) app.log.warn({ err: error }, 'search: new words could not be moved into the full-text index; trying again');
      failing = true;
    }
  };
  const tick = () => {
    running ??= flush().finally(() => {
      running = undefined;
    });
  };
  const timer = setInterval(tick, FLUSH_INTERVAL_MS);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
    await flush();
  });
}

export default fp(searchFlushPlugin, { name: 'search-flush', dependencies: ['db'] });
