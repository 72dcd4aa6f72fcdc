#!/usr/bin/env node
/**
 * A create's own work, with nothing timing-dependent in it, for counting instructions under callgrind:
 * messages stored by `insertMessage` (the built service's, from dist/) on a new SQLite file, nine at a
 * time in one event-loop turn, so each group of nine shares one commit, as under the bench's load; then
 * their words moved into the full-text index in batches, as the service does every 200 ms. Run it
 * twice with the same warm-up and two measured sizes; the difference of the two counts divided by the
 * difference of the creates is one create's instructions (start-up and warm-up cancel out):
 *
 *   npm run -s build
 *   valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=/tmp/cg.300 node scripts/bench/create-in-groups.mjs 1000 300
 *   valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=/tmp/cg.900 node scripts/bench/create-in-groups.mjs 1000 900
 *   grep summary /tmp/cg.300-01 /tmp/cg.900-01     # main thread: (second - first) / (600 * 9)
 *
 * Arguments: groups of warm-up, then groups measured (the counters are not reset between them: the
 * difference of two runs is what counts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase } from '../../dist/db/create-db.js';
import { migrateToLatest } from '../../dist/db/migrate.js';
import { flushPendingWords } from '../../dist/modules/mailbox/search-index.js';
import { insertMessage } from '../../dist/modules/messages/messages.repository.js';

const GROUP = 9;
const [warmUp, measured] = process.argv.slice(2, 4).map(Number);
if (!Number.isInteger(warmUp) || !Number.isInteger(measured) || warmUp < 0 || measured < 0) {
  console.error('usage: node scripts/bench/create-in-groups.mjs WARM_UP_GROUPS MEASURED_GROUPS');
  process.exit(2);
}

const folder = mkdtempSync(join(tmpdir(), 'inbox-create-groups-'));
const { db } = createDatabase(`sqlite:${join(folder, 'groups.db')}`);
try {
  await migrateToLatest(db, 'sqlite');
  const users = [];
  for (let index = 0; index < 20; index += 1) {
    const email = `user${index}@bench.test`;
    const { insertId } = await db.insertInto('users').values({ email, email_key: email, hashed_password: 'x', is_active: 1 }).executeTakeFirstOrThrow();
    users.push(Number(insertId));
  }
  // Ten senders write to ten recipients, as the bench's seeded users do.
  const group = (number) =>
    Promise.all(
      Array.from({ length: GROUP }, (_, index) =>
        insertMessage(db, { from_userid: users[(number + index) % 10], to_userid: users[10 + ((number + index) % 10)], subject: 'Bench', message: 'Hello from autocannon' }),
      ),
    );
  for (let number = 0; number < warmUp + measured; number += 1) await group(number);
  // The service moves the new words into the full-text index in batches (plugins/search-flush.ts): that is part of a create's work too.
  let moved = 0;
  for (let batch = await flushPendingWords(db); batch > 0; batch = await flushPendingWords(db)) moved += batch;
  console.log(`${(warmUp + measured) * GROUP} messages stored, ${measured * GROUP} of them after the warm-up; ${moved} moved into the full-text index`);
} finally {
  await db.destroy();
  rmSync(folder, { recursive: true, force: true });
}
