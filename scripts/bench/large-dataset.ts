/**
 * `npm run bench -- --dataset large`: 1,000,000 messages over 100,000 users, one of whom (the heavy
 * user, id 1) has received 100,000 (every tenth message), written by a few SQL statements on either
 * database (SQLite: a recursive CTE; PostgreSQL: generate_series), without the service.
 *
 * Every text is plain lower-case ASCII words separated by single spaces, so the words SQL indexes
 * (split on spaces) are exactly the words the service reads from a text (search-text.ts: lower case,
 * accents dropped, runs of letters and digits), and the full-text index is filled in SQL too.
 *
 * Words: a subject of three, a body of ten. Per message:
 * - three draws from 16 common English words ("the" is drawn 30% of the time: in about two thirds of
 *   the messages, like the commonest word of any text);
 * - eight draws from 2,000 pseudo-words of two syllables (each in about 0.4% of the messages);
 * - one rare pseudo-word of three syllables out of 50,000 (each in about 20 messages, 2 of the heavy user's).
 * Folder: 85% inbox, 8% trash, 7% spam; 30% unread; one message every 30 seconds, the newest a
 * minute ago. The heavy user's messages carry mailbox steps (recipient_seq 1…100,000, the step each
 * arrived at) and mailbox_states says 100,000, so their changes are an index range as for mail the
 * service stored; the other messages have no steps, as mail stored before steps were kept (part of
 * every user's first state).
 */
import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../../src/db/create-db.js';
import type { Database } from '../../src/db/database.js';

export const LARGE_USERS = 100_000;
export const LARGE_MESSAGES = 1_000_000;
/** the heavy user: every tenth message is theirs */
export const HEAVY_USER_ID = 1;
const HEAVY_EVERY = 10;
export const HEAVY_MESSAGES = LARGE_MESSAGES / HEAVY_EVERY;
const MESSAGE_INTERVAL_MS = 30_000;

/** The common words with the chance (in %) of each draw; "the" first. */
const COMMON_WORDS: readonly [string, number][] = [
  ['the', 30],
  ['and', 14],
  ['for', 9],
  ['you', 7],
  ['with', 6],
  ['this', 5],
  ['that', 5],
  ['have', 4],
  ['from', 4],
  ['about', 3],
  ['meeting', 3],
  ['lunch', 2],
  ['project', 2],
  ['report', 2],
  ['budget', 2],
  ['hello', 2],
];
/** the word a common-word search looks for */
export const COMMON_WORD = 'the';
const MEDIUM_WORDS = 2000;
const RARE_WORDS = 50_000;

const CONSONANTS = 'bcdfghjklmnpqrstvwxz';
const VOWELS = 'aeiou';

/** Odd 32-bit multipliers and offsets, one pair per draw: (i × m + c) mod 2^32, its high bits are the draw. */
const DRAWS = [
  [2654435761, 97],
  [2246822519, 3],
  [3266489917, 11],
  [668265263, 29],
  [374761393, 31],
  [2869860233, 53],
  [1597334677, 71],
  [3812015801, 89],
  [2119232269, 101],
  [1103515245, 12345],
  [1664525, 1013904223],
  [214013, 2531011],
  [22695477, 1],
  [1140671485, 12820163],
] as const;

/** SQL for draw `index` of message `i`: a number in 0 … range-1. */
function draw(dialect: DialectName, index: number, range: number): string {
  const [multiplier, offset] = DRAWS[index]!;
  const i = dialect === 'postgres' ? 'i::bigint' : 'i';
  return `(((${i} * ${multiplier} + ${offset}) % 4294967296) >> 12) % ${range}`;
}

/** SQL for one syllable (0 … 99) of an integer expression. */
function syllable(dialect: DialectName, value: string): string {
  const int = (expression: string) => (dialect === 'postgres' ? `(${expression})::int` : `(${expression})`);
  return `substr('${CONSONANTS}', ${int(`${value} % 20`)} + 1, 1) || substr('${VOWELS}', ${int(`${value} / 20 % 5`)} + 1, 1)`;
}

/** A medium word: two syllables of a number 0 … 1999 (b…a…, 4 letters). */
function mediumWord(dialect: DialectName, index: number): string {
  const value = draw(dialect, index, MEDIUM_WORDS);
  return `${syllable(dialect, `(${value}) % 100`)} || ${syllable(dialect, `(${value}) / 100`)}`;
}

/** A rare word: three syllables of a number 10,000 … 59,999 (6 letters; the third syllable is never the first one's "ba"). */
function rareWord(dialect: DialectName, index: number): string {
  const value = `(${draw(dialect, index, RARE_WORDS)} + 10000)`;
  return `${syllable(dialect, `${value} % 100`)} || ${syllable(dialect, `${value} / 100 % 100`)} || ${syllable(dialect, `${value} / 10000`)}`;
}

function commonWord(dialect: DialectName, index: number): string {
  const value = draw(dialect, index, 100);
  let cumulative = 0;
  const branches = COMMON_WORDS.slice(0, -1).map(([word, percent]) => {
    cumulative += percent;
    return `when ${value} < ${cumulative} then '${word}'`;
  });
  return `(case ${branches.join(' ')} else '${COMMON_WORDS.at(-1)![0]}' end)`;
}

/** The subject and the body of message `i`, in SQL: words joined by single spaces. */
function texts(dialect: DialectName): { subject: string; message: string } {
  const join = (words: string[]) => words.map((word) => `(${word})`).join(" || ' ' || ");
  return {
    subject: join([commonWord(dialect, 0), mediumWord(dialect, 1), mediumWord(dialect, 2)]),
    message: join([
      commonWord(dialect, 3),
      mediumWord(dialect, 4),
      mediumWord(dialect, 5),
      commonWord(dialect, 6),
      mediumWord(dialect, 7),
      mediumWord(dialect, 8),
      rareWord(dialect, 9),
      mediumWord(dialect, 10),
      'case when i % 2 = 0 then \'please\' else \'thanks\' end',
      mediumWord(dialect, 11),
    ]),
  };
}

/** The select list of message `i` (a column `i` of 1 … LARGE_MESSAGES). */
function messageColumns(dialect: DialectName, newestAt: number): string {
  const { subject, message } = texts(dialect);
  const folderDraw = draw(dialect, 12, 100);
  const unreadDraw = draw(dialect, 13, 10);
  const heavy = `i % ${HEAVY_EVERY} = 0`;
  const firstAt = newestAt - LARGE_MESSAGES * MESSAGE_INTERVAL_MS;
  const i = dialect === 'postgres' ? 'i::bigint' : 'i';
  const columns = [
    'i',
    // senders: users 2 … 100,000 (the heavy user only receives)
    `2 + (${i} * 40507 + 17) % ${LARGE_USERS - 1}`,
    `case when ${heavy} then ${HEAVY_USER_ID} else 2 + (${i} * 48271) % ${LARGE_USERS - 1} end`,
    subject,
    message,
    `case when ${folderDraw} < 85 then 'inbox' when ${folderDraw} < 93 then 'trash' else 'spam' end`,
    `case when ${unreadDraw} < 3 then 'Y' else 'N' end`,
    `${firstAt} + ${i} * ${MESSAGE_INTERVAL_MS}`,
    `case when ${heavy} then ${i} / ${HEAVY_EVERY} end`,
    `case when ${heavy} then ${i} / ${HEAVY_EVERY} end`,
  ];
  const names = MESSAGE_COLUMNS.split(', ');
  return columns.map((expression, index) => `${expression} as ${names[index]}`).join(',\n      ');
}

const MESSAGE_COLUMNS = 'id, from_userid, to_userid, subject, message, folder, unread, created_at, recipient_seq, recipient_created_seq';

function numbers(dialect: DialectName, count: number): { with: string; from: string } {
  return dialect === 'postgres'
    ? { with: '', from: `generate_series(1, ${count}) as n(i)` }
    : { with: `with recursive n(i) as (select 1 union all select i + 1 from n where i < ${count}) `, from: 'n' };
}

/** The INSERT of all the messages, the newest at `newestAt` (epoch ms). */
export function insertMessagesSql(dialect: DialectName, newestAt: number, count = LARGE_MESSAGES): string {
  const messages = numbers(dialect, count);
  // PostgreSQL: the search words in the same INSERT (an UPDATE afterwards would write every row twice).
  const searchColumn = dialect === 'postgres' ? ', search_vector' : '';
  const searchValue = dialect === 'postgres' ? `, array_to_tsvector(string_to_array(subject || ' ' || message, ' '))` : '';
  return `${messages.with}insert into messages (${MESSAGE_COLUMNS}${searchColumn})
    select ${MESSAGE_COLUMNS}${searchValue} from (select
      ${messageColumns(dialect, newestAt)}
    from ${messages.from}) as generated`;
}

/**
 * Drops the table's indexes other than its key and constraints' (as the migrations made them, read from
 * the catalogue) and answers the statements that make them again.
 */
async function dropSecondaryIndexes(db: Kysely<Database>, dialect: DialectName, table: string): Promise<string[]> {
  const { rows } =
    dialect === 'postgres'
      ? await sql<{ name: string; definition: string }>`
          select indexname as name, indexdef as definition from pg_indexes
          where schemaname = current_schema() and tablename = ${table}
            and not exists (select 1 from pg_constraint where conindid = (quote_ident(schemaname) || '.' || quote_ident(indexname))::regclass)`.execute(db)
      : await sql<{ name: string; definition: string }>`
          select name, sql as definition from sqlite_master where type = 'index' and tbl_name = ${table} and sql is not null`.execute(db);
  for (const { name } of rows) await sql`drop index ${sql.id(name)}`.execute(db);
  return rows.map((row) => row.definition);
}

export interface LoadTimings {
  usersSeconds: number;
  messagesSeconds: number;
  searchIndexSeconds: number;
  countsSeconds: number;
  /** PostgreSQL: VACUUM ANALYZE */
  analyzeSeconds: number;
}

/**
 * Writes the data set into a migrated, empty database. `hashedPassword`: every user's (nobody logs in).
 * `rebuildCounts`: the service's rebuild of the kept folder counts, when it has one.
 */
export async function loadLargeDataset(
  db: Kysely<Database>,
  dialect: DialectName,
  hashedPassword: string,
  rebuildCounts: ((db: Kysely<Database>) => Promise<unknown>) | undefined,
  log: (line: string) => void,
): Promise<LoadTimings> {
  const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;

  if (dialect === 'sqlite') {
    // This connection only, for the load: a page cache that holds the indexes (the inserts reach them in
    // no order), and no fsync (a bench's scratch file).
    await sql`pragma cache_size = -1000000`.execute(db);
    await sql`pragma synchronous = OFF`.execute(db);
  } else {
    // The index builds after the load (the caller's handle has one connection: this holds for the session).
    await sql`set maintenance_work_mem = '512MB'`.execute(db);
  }
  let started = performance.now();
  const users = numbers(dialect, LARGE_USERS);
  const email = `'user' || i || '@example.com'`;
  await sql
    .raw(`${users.with}insert into users (id, email, email_key, hashed_password, is_active) select i, ${email}, ${email}, '${hashedPassword.replace(/'/g, "''")}', 1 from ${users.from}`)
    .execute(db);
  const usersSeconds = seconds(started);

  started = performance.now();
  // Indexes built once over the loaded table (a sort each) instead of a million random inserts into each.
  const indexes = await dropSecondaryIndexes(db, dialect, 'messages');
  await sql.raw(insertMessagesSql(dialect, Date.now() - 60_000)).execute(db);
  for (const definition of indexes) await sql.raw(definition).execute(db);
  // The heavy user's mailbox is at the step its last message arrived at.
  await sql`insert into mailbox_states (user_id, seq) values (${HEAVY_USER_ID}, ${HEAVY_MESSAGES})`.execute(db);
  if (dialect === 'postgres') {
    // Ids were given: move the identity sequences past them, so the service's next user and message get new ones.
    await sql`select setval(pg_get_serial_sequence('users', 'id'), ${LARGE_USERS})`.execute(db);
    await sql`select setval(pg_get_serial_sequence('messages', 'id'), ${LARGE_MESSAGES})`.execute(db);
  }
  const messagesSeconds = seconds(started);

  started = performance.now();
  if (dialect === 'sqlite') {
    await sql`insert into messages_search (rowid, words) select id, subject || ' ' || message from messages`.execute(db);
  }
  const searchIndexSeconds = seconds(started);

  started = performance.now();
  if (rebuildCounts) await rebuildCounts(db);
  const countsSeconds = seconds(started);

  started = performance.now();
  if (dialect === 'postgres') await sql`vacuum analyze`.execute(db);
  const analyzeSeconds = seconds(started);
  log(
    `  ${LARGE_USERS} users in ${usersSeconds} s, ${LARGE_MESSAGES} messages in ${messagesSeconds} s` +
      `${dialect === 'sqlite' ? `, search index in ${searchIndexSeconds} s` : ' (search words in the same insert)'}` +
      `, folder counts ${rebuildCounts ? `rebuilt in ${countsSeconds} s` : 'NOT rebuilt (no rebuild function found)'}` +
      `${dialect === 'postgres' ? `, vacuum analyze in ${analyzeSeconds} s` : ''}`,
  );
  return { usersSeconds, messagesSeconds, searchIndexSeconds, countsSeconds, analyzeSeconds };
}

/** The rare word of message `id` (its body's 7th word), read back from the database. */
export async function rareWordOf(db: Kysely<Database>, id: number): Promise<string> {
  const row = await db.selectFrom('messages').select('message').where('id', '=', id).executeTakeFirstOrThrow();
  const word = row.message.split(' ')[6];
  if (!word || !/^[a-z]{6}$/.test(word)) throw new Error(`message ${id} has no rare word where expected: "${row.message}"`);
  return word;
}
