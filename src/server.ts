/**
 * The only place that listens. Shuts down gracefully on SIGTERM/SIGINT.
 * With WEB_CONCURRENCY above 1, this process is a primary that runs that many workers (node:cluster)
 * on one port, replaces a worker that dies, and passes a shutdown on to all of them.
 */
import cluster, { type Worker } from 'node:cluster';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { clusterProblem, type Config, ConfigError, loadConfig } from './config.js';
import { openDatabase } from './plugins/db.js';

/** A worker that dies is replaced after this pause, doubling while they keep dying quickly, up to 30 s. */
const FIRST_RESTART_MS = 500;
const LAST_RESTART_MS = 30_000;
/** A worker that lived this long was healthy: the next restart starts from the first pause again. */
const HEALTHY_RUN_MS = 60_000;
/** Workers that have not exited this long after a shutdown began are killed. */
const SHUTDOWN_GRACE_MS = 10_000;

function readConfig(): Config {
  try {
    const config = loadConfig();
    const problem = clusterProblem(config, config.webConcurrency);
    if (problem) throw new ConfigError('WEB_CONCURRENCY', problem);
    return config;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

async function serve(config: Config) {
  const app = await buildApp(config);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    // close() stops accepting, waits for in-flight requests, then runs onClose hooks (database, Redis).
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
}

/**
 * The primary brings the database to the latest schema once, before any worker starts: workers that
 * all migrate a new database at once would queue on its lock and some would give up.
 */
async function migrateBeforeWorkers(config: Config): Promise<void> {
  const log = pino({ level: config.logLevel });
  const { db } = await openDatabase({ url: config.databaseUrl, poolMax: 1, timeoutMs: config.databaseTimeoutMs, log });
  await db.destroy();
}

async function runWorkers(config: Config) {
  await migrateBeforeWorkers(config);
  let stopping = false;
  let restartDelay = FIRST_RESTART_MS;
  const startedAt = new Map<Worker, number>();
  const fork = () => startedAt.set(cluster.fork(), Date.now());

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    startedAt.delete(worker);
    if (stopping) {
      if (startedAt.size === 0) process.exit(0);
      return;
    }
    restartDelay = lived >= HEALTHY_RUN_MS ? FIRST_RESTART_MS : Math.min(restartDelay * 2, LAST_RESTART_MS);
    console.error(JSON.stringify({ level: 50, time: Date.now(), pid: process.pid, msg: `worker ${worker.process.pid} exited (${signal ?? code}); starting another in ${restartDelay} ms` }));
    setTimeout(() => {
      if (!stopping) fork();
    }, restartDelay).unref();
  });

  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of startedAt.keys()) worker.process.kill('SIGTERM');
    if (startedAt.size === 0) process.exit(0);
    setTimeout(() => {
      for (const worker of startedAt.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  for (let index = 0; index < config.webConcurrency; index += 1) fork();
}

const config = readConfig();
if (config.webConcurrency > 1 && cluster.isPrimary) {
  runWorkers(config).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  serve(config).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
