/** Spam reports (ledger + counters) for the routes; warns once when counters stay in this process. */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { SpamReports, type SpamReportsObserver } from '../modules/spam/spam-reports.js';

declare module 'fastify' {
  interface FastifyInstance {
    spamReports: SpamReports;
  }
}

export interface SpamReportsPluginOptions {
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  redisTimeoutMs: number;
  ttlSeconds: number;
  /** told about reports, withdrawals, rebuilds and Redis errors (the metrics) */
  observer?: SpamReportsObserver;
}

async function spamReportsPlugin(app: FastifyInstance, options: SpamReportsPluginOptions) {
  const spamReports = new SpamReports({ ...options, db: app.db, dialect: app.dialect, log: app.log });
  if (!spamReports.usesRedis) {
    app.log.warn('REDIS_URL is not set: spam counters are kept in this process; running more than one instance needs Redis');
  }
  app.addHook('onClose', () => spamReports.close());
  app.decorate('spamReports', spamReports);
}

export default fp(spamReportsPlugin, { name: 'spam-reports', dependencies: ['db'] });
