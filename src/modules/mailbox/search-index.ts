/**
 * The full-text index of messages, one per database, both holding exactly the words of
 * search-text.ts (neither database's tokenizer has a say):
 * - SQLite: the contentless FTS5 table `messages_search`, its rowid the message id, its one column the
 *   words joined by spaces (the `ascii` tokenizer splits on the spaces and changes nothing else);
 * - PostgreSQL: the `tsvector` column `messages.search_vector` under a GIN index, the words as lexemes.
 * A message is indexed in the same transaction (PostgreSQL: the same statement) that stores it.
 */
import { type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import { type DialectName, dialectOf, inTransaction } from '../../db/create-db.js';
import type { Database } from '../../db/database.js';
import { rawQuery, runCompiled } from '../../db/prepared.js';
import { atGroupCommit } from '../../db/sqlite-group-commit.js';
import { indexedWords, type SearchTerms } from './search-text.js';

type Db = Kysely<Database>;

interface IndexedText {
  id: number;
  subject: string;
  message: string;
}

/** The columns a message's row gets for search: PostgreSQL's `search_vector` (its words as lexemes, as they are); none on SQLite. */
export type SearchColumns = { search_vector?: RawBuilder<unknown> };

/** A message's words as the index holds them, joined by spaces (they hold none themselves). */
export function searchWords(text: { subject: string; message: string }): string {
  return indexedWords(text.subject, text.message).join(' ');
}

/** The search columns of a row whose words are `words` (searchWords): usable in a prepared insert. */
export function searchColumns(db: Db, words: string): SearchColumns {
  return dialectOf(db) === 'postgres' ? { search_vector: sql`array_to_tsvector(string_to_array(${words}, ' '))` } : {};
}

/**
 * Stores a message (through `insert`, which puts searchColumns(db, words) in its row) and its words
 * together: on PostgreSQL in the same INSERT, on SQLite in the same transaction (a row of the FTS5 table).
 */
export async function insertSearchable<Row extends { id: number }>(
  db: Db,
  text: { subject: string; message: string },
  insert: (db: Db, words: string) => Promise<Row>,
): Promise<Row> {
  const words = searchWords(text);
  if (dialectOf(db) === 'postgres') return insert(db, words);
  return inTransaction(db, async (trx) => {
    const stored = await insert(trx, words);
    await addNewToSqliteIndex(trx, stored.id, words);
    return stored;
  });
}

const insertIndexRow = rawQuery('insert into messages_search (rowid, words) values (?, ?)');

/** SQLite: adds a stored message's words to the FTS5 table. */
async function addToSqliteIndex(db: Db, id: number, words: string): Promise<void> {
  await db.executeQuery(insertIndexRow(id, words));
}

/**
 * SQLite: adds a new message's words to the FTS5 table at its group's commit (sqlite-group-commit.ts):
 * the group's messages then make one new segment of the index, not one each. Only for the few rows
 * of a request: a rebuild adds its rows at once (addToSqliteIndex), so they never wait in memory.
 */
async function addNewToSqliteIndex(db: Db, id: number, words: string): Promise<void> {
  await runCompiled(db, atGroupCommit(insertIndexRow(id, words)));
}

/** The FTS5 query of a search: every word, the last as a prefix (quoted: the words hold only letters and digits). */
function sqliteMatchOf(terms: SearchTerms): string {
  return [...terms.words.map((word) => `"${word}"`), `"${terms.prefix}"*`].join(' ');
}

const hitsBelow = rawQuery<{ rowid: number }>('select rowid from messages_search where messages_search match ? and rowid < ? order by rowid desc limit cast(? as integer)');

/**
 * SQLite: the ids of the messages that match, below `below` (all when undefined), newest first, at
 * most `limit`. FTS5 reads a word's hits downward from an id quickly (the newest 60 of a word in every
 * message of 100,000: 0.05 ms), while a lower bound makes it read the word's whole list first (3 ms).
 */
export async function sqliteHitsBelow(db: Db, terms: SearchTerms, below: number | undefined, limit: number): Promise<number[]> {
  const { rows } = await runCompiled(db, hitsBelow(sqliteMatchOf(terms), below ?? Number.MAX_SAFE_INTEGER, limit));
  return rows.map((row) => row.rowid);
}

/** Ids a search is known to be limited to: `from` ≤ id < `below`. */
export interface IdRange {
  from?: number | undefined;
  below?: number | undefined;
}

/**
 * The condition "the message has every word of the search, the last as a prefix". The words hold only
 * letters and digits (search-text.ts), so quoting them cannot be escaped from. `range` repeats the
 * query's own id bounds for SQLite's FTS5, which then returns only that stretch of each word's hits
 * (to find a lower bound it still reads the list from its start: see sqliteHitsBelow); PostgreSQL tests
 * the condition on the rows the rest of the query selects.
 */
export function matchesSearch(dialect: DialectName, terms: SearchTerms, range: IdRange = {}): RawBuilder<SqlBool> {
  if (dialect === 'postgres') {
    const query = [...terms.words.map((word) => `'${word}'`), `'${terms.prefix}':*`].join(' & ');
    return sql<SqlBool>`messages.search_vector @@ ${query}::tsquery`;
  }
  const match = sqliteMatchOf(terms);
  const from = range.from === undefined ? sql`` : sql` and rowid >= ${range.from}`;
  const below = range.below === undefined ? sql`` : sql` and rowid < ${range.below}`;
  return sql<SqlBool>`messages.id in (select rowid from messages_search where messages_search match ${match}${from}${below})`;
}

const REBUILD_BATCH = 500;

/**
 * Indexes every message that is not in the index yet, oldest first, in batches: used by the migration
 * that created the index, and after loading messages in bulk without the service. Returns how many.
 */
export async function indexUnindexedMessages(db: Db): Promise<number> {
  const dialect = dialectOf(db);
  let indexed = 0;
  let after = 0;
  for (;;) {
    const unindexed =
      dialect === 'postgres'
        ? sql<IndexedText>`select id, subject, message from messages where search_vector is null and id > ${after} order by id limit ${REBUILD_BATCH}`
        : sql<IndexedText>`select id, subject, message from messages where id > ${after}
            and not exists (select 1 from messages_search where rowid = messages.id) order by id limit ${REBUILD_BATCH}`;
    const { rows } = await unindexed.execute(db);
    if (rows.length === 0) return indexed;
    const words = rows.map(searchWords);
    if (dialect === 'postgres') {
      const ids = rows.map((row) => row.id);
      await sql`update messages set search_vector = array_to_tsvector(string_to_array(batch.words, ' '))
        from unnest(${ids}::bigint[], ${words}::text[]) as batch(id, words) where messages.id = batch.id`.execute(db);
    } else {
      for (const [index, row] of rows.entries()) await addToSqliteIndex(db, row.id, words[index] ?? '');
    }
    indexed += rows.length;
    after = rows.at(-1)!.id;
  }
}
