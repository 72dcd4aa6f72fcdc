/**
 * `npm run spam:rebuild`: writes every spam counter (value and remaining expiry) from the ledger in
 * the database to Redis, forcing it where Redis is ahead (a restored database) and removing counters
 * the ledger does not stand behind.
 */
import { pino } from 'pino';
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/create-db.js';
import { migrateToLatest } from '../db/migrate.js';
import { SpamReports, spamReportsSettings } from '../modules/spam/spam-reports.js';
import { runCommand } from './run-command.js';

async function main(): Promise<number> {
  const config = loadConfig();
  if (!config.redisUrl) {
    console.error('REDIS_URL is not set: without Redis, the counts live in the database only and there is nothing to rebuild.');
    return 1;
  }
  const log = pino({ level: config.logLevel });
  const { db, dialect } = createDatabase(config.databaseUrl);
  const spamReports = new SpamReports({ ...spamReportsSettings(config), db, reconcileOnConnect: false, log });
  try {
    await migrateToLatest(db, dialect);
    await spamReports.connected();
    const reported = await spamReports.rebuildCounters({ prune: true });
    console.log(`Rebuilt spam counters from the ledger: ${reported} sender(s) currently reported.`);
    return 0;
  } finally {
    await spamReports.close();
    await db.destroy();
  }
}

runCommand(main);
