/**
 * The full-text index of messages, one per database, both holding exactly the words of
 * search-text.ts (neither database's tokenizer has a say):
 * - SQLite: the contentless FTS5 table `messages_search`, its rowid the message id, its one column the
 *   words joined by spaces (the `ascii` tokenizer splits on the spaces and folds ASCII capitals, nothing
 *   else); new messages' words first wait in `messages_search_pending`, see below;
 * - PostgreSQL: the `tsvector` column `messages.search_vector` under a GIN index, the words as lexemes.
 * A message is searchable from the transaction (PostgreSQL: the statement) that stores it.
 *
 * SQLite's pending words: FTS5 writes what a transaction added as a new segment of the index at its
 * commit, and merges segments as they pile up, inside that commit: with a segment per commit group, every
 * create paid for them, and on a large index a merge held a commit for up to hundreds of milliseconds
 * (README, Speed). So a new message's words go into the
 * plain table `messages_search_pending` in its transaction, and flushPendingWords moves them into the
 * FTS5 table in batches (one segment for hundreds of messages), every FLUSH_INTERVAL_MS while there are
 * any (plugins/search-flush.ts). Every search reads both: the pending rows are few, and matched by the
 * same rule as FTS5's (PENDING_MATCH), so a search finds exactly the same messages before and after a move.
 */
import { type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import { type DialectName, dialectOf, inTransaction } from '../../db/create-db.js';
import type { Database } from '../../db/database.js';
import { rawQuery, runCompiled } from '../../db/prepared.js';
import { transactNow } from '../../db/sqlite-group-commit.js';
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
 * together: on PostgreSQL in the same INSERT, on SQLite in the same transaction (a pending row).
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
    await runCompiled(trx, insertPendingRow(stored.id, words));
    return stored;
  });
}

const insertPendingRow = rawQuery('insert into messages_search_pending (id, words) values (?, ?)');
const insertIndexRow = rawQuery('insert into messages_search (rowid, words) values (?, ?)');

/** SQLite: adds a stored message's words to the FTS5 table. */
async function addToSqliteIndex(db: Db, id: number, words: string): Promise<void> {
  await db.executeQuery(insertIndexRow(id, words));
}

/** Pending rows moved into the FTS5 table at a time (one transaction, one new segment). */
export const FLUSH_BATCH = 1000;

const anyPending = rawQuery<{ id: number }>('select id from messages_search_pending limit 1');
const oldestPending = rawQuery<{ id: number; words: string }>('select id, words from messages_search_pending order by id limit cast(? as integer)');
const deletePendingThrough = rawQuery('delete from messages_search_pending where id <= ?');

/**
 * SQLite: moves the oldest pending words (up to FLUSH_BATCH messages) into the FTS5 table, in one
 * transaction, and says how many. Nothing to do costs one read. The transaction runs at once and
 * synchronously (transactNow: the write lock is held only while it runs); when a transaction of a
 * request holds the connection, it does nothing and answers 0 (the next interval will do). Safe beside
 * other processes on the same file: the rows are read inside the transaction, which holds the write lock.
 */
export async function flushPendingWords(db: Db): Promise<number> {
  if (dialectOf(db) !== 'sqlite') return 0;
  const { rows: any } = await runCompiled(db, anyPending());
  if (any.length === 0) return 0;
  const moved = transactNow(db, (run) => {
    const { rows } = run<{ id: number; words: string }>(oldestPending(FLUSH_BATCH));
    const last = rows.at(-1);
    if (last === undefined) return 0;
    for (const row of rows) run(insertIndexRow(row.id, row.words));
    run(deletePendingThrough(last.id));
    return rows.length;
  });
  return moved ?? 0;
}

/** Pending rows counted at most: past it the count says "at least this many", and costs no more (a few ms). */
export const PENDING_COUNT_LIMIT = 100_000;

const countPending = rawQuery<{ pending: number }>('select count(*) as pending from (select 1 from messages_search_pending limit cast(? as integer))');

/**
 * SQLite: how many messages' words wait to move into the FTS5 table, up to PENDING_COUNT_LIMIT (a few
 * hundred at most while the moving works; every search reads them one by one, so a number that keeps
 * growing wants looking at).
 */
export async function countPendingWords(db: Db): Promise<number> {
  const { rows } = await runCompiled(db, countPending(PENDING_COUNT_LIMIT));
  return Number(rows[0]?.pending ?? 0);
}

/** The FTS5 query of a search: every word, the last as a prefix (quoted: the words hold only letters and digits). */
function sqliteMatchOf(terms: SearchTerms): string {
  return [...terms.words.map((word) => `"${word}"`), `"${terms.prefix}"*`].join(' ');
}

const hitsBelow = rawQuery<{ rowid: number }>('select rowid from messages_search where messages_search match ? and rowid < ? order by rowid desc limit cast(? as integer)');

/**
 * FTS5's match, on a pending row's words: each word is one of them, and one of them starts with the
 * prefix. The words are whole between spaces (they hold none), and `lower` folds ASCII capitals only, as
 * the `ascii` tokenizer does (a capital can come out of a compatibility character: ℌ is H). Its values:
 * the prefix, then the other words as a JSON array.
 */
const PENDING_MATCH = `instr(' ' || lower(pending.words), ' ' || lower(?)) > 0
  and not exists (select 1 from json_each(?) as word where instr(' ' || lower(pending.words) || ' ', ' ' || lower(word.value) || ' ') = 0)`;

const pendingHitsBelow = rawQuery<{ id: number }>(
  `select pending.id from messages_search_pending as pending where ${PENDING_MATCH} and pending.id < ? order by pending.id desc limit cast(? as integer)`,
);

/**
 * SQLite: the ids of the messages that match, below `below` (all when undefined), newest first, at
 * most `limit`: the pending rows' and the FTS5 table's, merged. FTS5 reads a word's hits downward from an
 * id quickly (the newest 60 of a word in every message of 100,000: 0.05 ms), while a lower bound makes it
 * read the word's whole list first (3 ms).
 */
export async function sqliteHitsBelow(db: Db, terms: SearchTerms, below: number | undefined, limit: number): Promise<number[]> {
  const upper = below ?? Number.MAX_SAFE_INTEGER;
  const pending = (await runCompiled(db, pendingHitsBelow(...pendingValues(terms), upper, limit))).rows.map((row) => row.id);
  const indexed = (await runCompiled(db, hitsBelow(sqliteMatchOf(terms), upper, limit))).rows.map((row) => row.rowid);
  // Newer messages are usually all pending, but not always (another process may have moved some): merge.
  if (pending.length === 0) return indexed;
  return [...pending, ...indexed].sort((a, b) => b - a).slice(0, limit);
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
  const from = (column: string) => (range.from === undefined ? sql`` : sql` and ${sql.ref(column)} >= ${range.from}`);
  const below = (column: string) => (range.below === undefined ? sql`` : sql` and ${sql.ref(column)} < ${range.below}`);
  return sql<SqlBool>`messages.id in (select rowid from messages_search where messages_search match ${match}${from('rowid')}${below('rowid')}
    union all select pending.id from messages_search_pending as pending where ${withValues(PENDING_MATCH, pendingValues(terms))}${from('pending.id')}${below('pending.id')})`;
}

/** The values of PENDING_MATCH, in order. */
function pendingValues(terms: SearchTerms): [string, string] {
  return [terms.prefix, JSON.stringify(terms.words)];
}

/** SQL text with `?` for its values (and no other question mark) as a Kysely fragment with those values bound. */
function withValues(text: string, values: readonly unknown[]): RawBuilder<unknown> {
  const parts = text.split('?');
  return sql.join(
    parts.map((part, index) => (index < values.length ? sql`${sql.raw(part)}${values[index]}` : sql.raw(part))),
    sql``,
  );
}

const indexRowOf = rawQuery<{ rowid: number }>('select rowid from messages_search where rowid = ?');
const deleteIndexRow = rawQuery('delete from messages_search where rowid = ?');
const updatePendingWords = rawQuery('update messages_search_pending set words = ? where id = ?');

/**
 * Indexes these messages again with the words searchWords makes of them now (after a change to those
 * words). PostgreSQL: their search_vector. SQLite: a pending row's words, or else the FTS5 row (the
 * table deletes by rowid: contentless_delete).
 */
export async function reindexMessages(db: Db, messages: readonly IndexedText[]): Promise<void> {
  if (messages.length === 0) return;
  const words = messages.map(searchWords);
  if (dialectOf(db) === 'postgres') {
    const ids = messages.map((message) => message.id);
    await sql`update messages set search_vector = array_to_tsvector(string_to_array(batch.words, ' '))
      from unnest(${ids}::bigint[], ${words}::text[]) as batch(id, words) where messages.id = batch.id`.execute(db);
    return;
  }
  await inTransaction(db, async (trx) => {
    for (const [index, message] of messages.entries()) {
      const { numAffectedRows } = await runCompiled(trx, updatePendingWords(words[index] ?? '', message.id));
      // Neither pending nor indexed (stored in bulk without the service): indexUnindexedMessages will index it as it is now.
      if (Number(numAffectedRows ?? 0) > 0 || (await runCompiled(trx, indexRowOf(message.id))).rows.length === 0) continue;
      await runCompiled(trx, deleteIndexRow(message.id));
      await runCompiled(trx, insertIndexRow(message.id, words[index] ?? ''));
    }
  });
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
  // Words already pending are as good as indexed. (The migration that made the FTS5 table runs before the one that made the pending table.)
  const pendingTable =
    dialect === 'sqlite' && (await sql`select 1 from sqlite_master where name = 'messages_search_pending'`.execute(db)).rows.length > 0
      ? sql` and not exists (select 1 from messages_search_pending as pending where pending.id = messages.id)`
      : sql``;
  for (;;) {
    const unindexed =
      dialect === 'postgres'
        ? sql<IndexedText>`select id, subject, message from messages where search_vector is null and id > ${after} order by id limit ${REBUILD_BATCH}`
        : sql<IndexedText>`select id, subject, message from messages where id > ${after}
            and not exists (select 1 from messages_search where rowid = messages.id)${pendingTable} order by id limit ${REBUILD_BATCH}`;
    const { rows } = await unindexed.execute(db);
    if (rows.length === 0) return indexed;
    if (dialect === 'postgres') {
      await reindexMessages(db, rows);
    } else {
      for (const row of rows) await addToSqliteIndex(db, row.id, searchWords(row));
    }
    indexed += rows.length;
    after = rows.at(-1)!.id;
  }
}
