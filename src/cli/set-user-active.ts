/**
 * `npm run users:deactivate -- <email>` and `npm run users:activate -- <email>`: an operator shuts an
 * account out (sign-in refused, its tokens answered 401 from the next request on) or lets it back in.
 * The email matches in any letter case.
 */
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/create-db.js';
import { migrateToLatest } from '../db/migrate.js';
import { setActive } from '../modules/users/users.repository.js';
import { runCommand } from './run-command.js';

async function main(): Promise<number> {
  const [action, email] = process.argv.slice(2);
  if ((action !== 'activate' && action !== 'deactivate') || !email) {
    console.error('usage: set-user-active activate|deactivate <email>');
    return 2;
  }
  const config = loadConfig();
  const { db, dialect } = createDatabase(config.databaseUrl, { poolMax: 1 });
  try {
    await migrateToLatest(db, dialect);
    const id = await setActive(db, email, action === 'activate');
    if (id === undefined) {
      console.error(`No user has the email ${email}.`);
      return 1;
    }
    console.log(`User ${id} <${email}> is ${action === 'activate' ? 'active' : 'deactivated'}.`);
    return 0;
  } finally {
    await db.destroy();
  }
}

runCommand(main);
