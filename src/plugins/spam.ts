/** Spam reports (ledger + Redis mirror) for the routes; warns once when there is no Redis to mirror to. */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { SpamReports, type SpamReportsObserver, type SpamReportsSettings } from '../modules/spam/spam-reports.js';

declare module 'fastify' {
  interface FastifyInstance {
    spamReports: SpamReports;
  }
}

export interface SpamPluginOptions {
  settings: SpamReportsSettings;
  /** told about reports, withdrawals, rebuilds and Redis errors (the metrics) */
  observer?: SpamReportsObserver;
}

async function spamPlugin(app: FastifyInstance, options: SpamPluginOptions) {
  const spamReports = new SpamReports({
    ...options.settings,
    db: app.db,
    log: app.log,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  if (!spamReports.usesRedis) {
    app.log.warn('REDIS_URL is not set: spam counts live in the database only; msg:spam-reports:uid:<id> keys are not written');
  }
  app.addHook('onClose', () => spamReports.close());
  app.decorate('spamReports', spamReports);
}

export default fp(spamPlugin, { name: 'spam-reports', dependencies: ['db'] });
