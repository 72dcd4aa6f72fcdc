/**
 * SQLite's WAL checkpoints, off the event loop. A checkpoint copies the WAL's pages into the database
 * file and, with synchronous=NORMAL, syncs the WAL before and the database after: two fsyncs. SQLite
 * runs it inside the commit that takes the WAL past 1,000 pages, so the event loop stood still for the
 * fsyncs: 19-22 ms every few hundred creates on a virtual disk, and every request waiting meanwhile
 * (create's p99 was 24-34 ms there). Here a worker thread with a connection of its own runs a PASSIVE
 * checkpoint every CHECKPOINT_INTERVAL_MS: it never waits for a writer nor makes one wait, and the WAL
 * is reused from its start by the next write once all of it was copied, as before.
 *
 * The service's connection keeps checkpointing itself, but only past BACKSTOP_PAGES (should the worker
 * fall behind); if the worker cannot start or stops, that connection goes back to SQLite's default at
 * once, so the WAL never grows without bound. Durability is SQLite's own: the worker's connection has
 * the same synchronous setting, so each checkpoint syncs exactly as before, only elsewhere.
 */
import { Worker } from 'node:worker_threads';

/** The worker starts with this commit of the connection (migrations and a few writes come before). */
export const CHECKPOINTER_AFTER_COMMITS = 100;
/** How often the worker checkpoints (a PASSIVE checkpoint with nothing to copy costs a few system calls). */
export const CHECKPOINT_INTERVAL_MS = 100;
/** The service's own connection checkpoints only past this many WAL pages while the worker runs (40 MiB). */
export const BACKSTOP_PAGES = 10_000;
/** SQLite's default, restored when the worker is gone. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

export interface CheckpointerOptions {
  /** the database file (the service's connection has it open, in WAL mode) */
  file: string;
  /** the better-sqlite3 module the service runs on (a path for require) */
  modulePath: string;
  synchronous: 'NORMAL' | 'FULL';
  /** sets the service connection's wal_autocheckpoint, in pages */
  setAutocheckpoint(pages: number): void;
  /** told once when the worker fails to start or stops on its own: checkpoints are back on the service's connection */
  onStopped(error: unknown): void;
}

export interface Checkpointer {
  /** one last checkpoint, then the worker's connection closes and the thread ends */
  close(): Promise<void>;
}

// CommonJS, evaluated in the worker: opens its own connection and checkpoints on a timer until told to close.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('synchronous = ' + workerData.synchronous);
// Another connection's checkpoint (another process's worker) holds the lock: the next tick will do.
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error;
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { checkpoint(); } finally { db.close(); parentPort.close(); }
});
parentPort.postMessage('ready');
`;

export function startCheckpointer(options: CheckpointerOptions): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file: options.file, modulePath: options.modulePath, synchronous: options.synchronous, intervalMs: CHECKPOINT_INTERVAL_MS },
    // A connection and a timer: a small heap is plenty.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
  });
  worker.unref();
  let closing = false;
  let stopped = false;
  const stop = (error: unknown) => {
    if (stopped) return;
    stopped = true;
    options.setAutocheckpoint(DEFAULT_AUTOCHECKPOINT_PAGES);
    if (!closing) options.onStopped(error);
  };
  // Only once its connection is open does the service's connection leave checkpoints to it.
  worker.once('message', () => {
    if (!stopped && !closing) options.setAutocheckpoint(BACKSTOP_PAGES);
  });
  worker.on('error', (error) => stop(error));
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      stop(new Error(`the checkpoint worker exited with code ${code}`));
      resolve();
    }),
  );
  return {
    async close() {
      if (!closing) {
        closing = true;
        // Held open until the worker has exited: until it has closed its connection, so the last one
        // closed is the service's; and a worker that failed (its 'error' came, its 'exit' not yet) is
        // still waited for, where an unreferenced one could let the event loop end first.
        worker.ref();
        if (!stopped) worker.postMessage('close');
      }
      await exited;
    },
  };
}
