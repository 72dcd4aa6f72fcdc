import { type Kysely, sql } from 'kysely';
import { reindexMessages } from '../../modules/mailbox/search-index.js';
import type { DialectName } from '../create-db.js';
import type { Database } from '../database.js';

const BATCH = 1000;

/** Lowered, then taken apart: does a capital come out (ℌ → H, 𝚨 → Α)? Only those messages' words change. */
function comesApartIntoCapitals(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- any character outside ASCII
  if (!/[^\u0000-\u007f]/.test(text)) return false;
  const folded = text.toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '');
  return folded !== folded.toLowerCase();
}

/**
 * The words of a message are lowered again after compatibility characters come apart
 * (modules/mailbox/search-text.ts): before, a letter like ℌ or 𝐇 was indexed as "H", which FTS5 folded
 * and PostgreSQL did not, so `hello` found "𝐇𝐞𝐥𝐥𝐨" on SQLite only. Indexes again the messages whose words
 * change (few: those holding such letters), reading every message once, in batches.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  const typed = db as Kysely<Database>;
  let after = 0;
  for (;;) {
    const { rows } = await sql<{ id: number; subject: string; message: string }>`select id, subject, message from messages
      where id > ${after} order by id limit ${BATCH}`.execute(typed);
    if (rows.length === 0) return;
    const changed = rows.filter((row) => comesApartIntoCapitals(row.subject) || comesApartIntoCapitals(row.message));
    if (changed.length > 0) await reindexMessages(typed, changed);
    after = rows.at(-1)!.id;
  }
}
