/**
 * `npm run counts:rebuild`: counts every user's folders again from the messages. The service keeps
 * the counts exact for every change it makes; run this after changing messages by hand in SQL. It
 * holds off writers while it counts (seconds for a million messages).
 */
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/create-db.js';
import { migrateToLatest } from '../db/migrate.js';
import { rebuildMailboxCounts } from '../modules/mailbox/mailbox-changes.repository.js';
import { runCommand } from './run-command.js';

async function main(): Promise<number> {
  const config = loadConfig();
  const { db, dialect } = createDatabase(config.databaseUrl, { poolMax: 1, timeoutMs: config.databaseTimeoutMs });
  try {
    await migrateToLatest(db, dialect);
    const started = Date.now();
    await rebuildMailboxCounts(db);
    console.log(`Folder counts rebuilt from the messages (${dialect}) in ${Date.now() - started} ms.`);
    return 0;
  } finally {
    await db.destroy();
  }
}

runCommand(main);
