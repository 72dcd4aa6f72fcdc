/** SQL for the mailbox views. Every function takes the database (or a transaction) first. */
import { type ExpressionBuilder, type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { dialectOf } from '../../db/create-db.js';
import type { MAILBOX_FOLDERS} from '../../db/database.js';
import { type Database, type Folder, type UnreadMark } from '../../db/database.js';
import { jsonBytes, readPageBySize, type SizedPage } from '../../db/page-by-size.js';
import { prepared, type PreparedQuery } from '../../db/prepared.js';
import { messageJsonBytes } from '../messages/messages.repository.js';
import type { MailboxCounts } from './mailbox-changes.repository.js';
import { matchesSearch, sqliteHitsBelow } from './search-index.js';
import type { SearchTerms } from './search-text.js';

type Db = Kysely<Database>;

/** The folders a mailbox listing can show: the received mail's, and the mail the user sent. */
export type MailboxFolder = (typeof MAILBOX_FOLDERS)[number] | 'sent';

/** A message with what the mailbox views add: time, conversation and both addresses. */
export interface MailboxRow {
  id: number;
  from_userid: number;
  to_userid: number;
  subject: string;
  message: string;
  folder: Folder;
  unread: UnreadMark;
  created_at: number | null;
  thread_id: number | null;
  in_reply_to: number | null;
  from_email: string;
  to_email: string;
}

type MailboxQueryBuilder = SelectQueryBuilder<Database & { sender: Database['users']; recipient: Database['users'] }, 'messages' | 'sender' | 'recipient', MailboxRow>;

const MAILBOX_COLUMNS = [
  'messages.id',
  'messages.from_userid',
  'messages.to_userid',
  'messages.subject',
  'messages.message',
  'messages.folder',
  'messages.unread',
  'messages.created_at',
  'messages.thread_id',
  'messages.in_reply_to',
  'sender.email as from_email',
  'recipient.email as to_email',
] as const;

/** Messages with their participants' addresses, in one query (from `db`, or from a WITH clause's query creator). */
function selectMailboxRows(db: Pick<Db, 'selectFrom'>): MailboxQueryBuilder {
  return db
    .selectFrom('messages')
    .innerJoin('users as sender', 'sender.id', 'messages.from_userid')
    .innerJoin('users as recipient', 'recipient.id', 'messages.to_userid')
    .select(MAILBOX_COLUMNS);
}

/**
 * In the user's mailbox: received (in any folder but `deleted`, mail its owner removed for good) or sent.
 * The received side is what the user sees of a message to oneself.
 */
function inMailboxOf(userId: number) {
  return (eb: ExpressionBuilder<Database, 'messages'>) =>
    eb.or([eb.and([eb('messages.to_userid', '=', userId), eb('messages.folder', '<>', 'deleted')]), eb('messages.from_userid', '=', userId)]);
}

/** What the two addresses, the time and the conversation add to a message in an answer (an upper bound). */
const MAILBOX_EXTRA_BYTES = 160;

export function mailboxJsonBytes(row: MailboxRow): number {
  return messageJsonBytes(row) + MAILBOX_EXTRA_BYTES + jsonBytes(row.from_email) + jsonBytes(row.to_email);
}

export interface MailboxFilter {
  folder?: MailboxFolder | undefined;
  unread?: UnreadMark | undefined;
  /** only messages with every word (search-text.ts) */
  search?: SearchTerms | undefined;
  /** only messages with a smaller id: the keyset of the page before */
  beforeId?: number | undefined;
  limit: number;
}

/** Which conditions a listing has, apart from their values: so a listing's query can be prepared once per shape. */
interface ListingShape {
  /** every folder of the received mail but `deleted`, the sent mail, or one folder of the received mail */
  folder: 'received' | 'sent' | 'one';
  unread: boolean;
}

function listingShape(filter: MailboxFilter): ListingShape {
  const folder = filter.folder === undefined ? 'received' : filter.folder === 'sent' ? 'sent' : 'one';
  return { folder, unread: filter.unread !== undefined && folder !== 'sent' };
}

/**
 * The messages a listing of `shape` shows, before search and paging: those received (in a folder) or
 * those sent. The values are used as values only (a prepared query's stand-ins take their places).
 */
function listedBy(shape: ListingShape, userId: number, folder: MailboxFolder | undefined, unread: UnreadMark | undefined) {
  return (eb: ExpressionBuilder<Database, 'messages'>) => {
    if (shape.folder === 'sent') return eb('messages.from_userid', '=', userId);
    const conditions = [eb('messages.to_userid', '=', userId)];
    // Every folder of the received mail but `deleted`: mail its owner removed for good is out of the mailbox.
    conditions.push(shape.folder === 'received' ? eb('messages.folder', '<>', 'deleted') : eb('messages.folder', '=', folder as Folder));
    if (shape.unread) conditions.push(eb('messages.unread', '=', unread as UnreadMark));
    return eb.and(conditions);
  };
}

type PageQuery = PreparedQuery<Database, [userId: number, folder: string | null, unread: string | null, beforeId: number | null, count: number], MailboxRow>;
/** The listing's page query of each shape, with a keyset (`… before`) or without. */
const pageQueries = new Map<string, PageQuery>();

function pageQuery(shape: ListingShape, before: boolean): PageQuery {
  const key = `${shape.folder},${shape.unread},${before}`;
  let query = pageQueries.get(key);
  if (query === undefined) {
    query = prepared((db: Db, userId: number, folder: string | null, unread: string | null, beforeId: number | null, count: number) => {
      let page = selectMailboxRows(db).where(listedBy(shape, userId, folder as MailboxFolder, unread as UnreadMark));
      if (before) page = page.where('messages.id', '<', beforeId as number);
      return page.orderBy('messages.id', 'desc').limit(count);
    });
    pageQueries.set(key, query);
  }
  return query;
}

/**
 * A user's messages, newest (highest id) first, as many of `limit` as fit in one answer (see
 * db/page-by-size.ts): those received (in `folder`, or in any), or with folder `sent` those sent.
 * Keyset paging on id: mail that arrives while a client pages gets higher ids, so it never shifts a
 * later page (no gap, no repeat).
 */
export async function listMailbox(db: Db, userId: number, filter: MailboxFilter): Promise<SizedPage<MailboxRow>> {
  // A sender's view of their mail is always read: asking for unread sent mail finds none.
  if (filter.folder === 'sent' && filter.unread === 'Y') return { rows: [], truncated: false, bytes: 0 };
  const shape = listingShape(filter);
  return readPageBySize({
    limit: filter.limit,
    sizeOf: mailboxJsonBytes,
    readChunk: (count, after) => {
      const beforeId = after?.id ?? filter.beforeId;
      if (filter.search !== undefined) return searchNewestFirst(db, listedBy(shape, userId, filter.folder, filter.unread), filter.search, beforeId, count);
      return pageQuery(shape, beforeId !== undefined)(db, userId, filter.folder ?? null, filter.unread ?? null, beforeId ?? null, count);
    },
  });
}

/** Rows a search first looks through, newest first, before it asks the full-text index. */
const SEARCH_WINDOW = 1000;

type Listed = (eb: ExpressionBuilder<Database, 'messages'>) => ReturnType<ExpressionBuilder<Database, 'messages'>['and']>;

/**
 * Search hits newest first within a listing.
 *
 * SQLite first reads the search's hits downward from `beforeId` (listedHitsDownward): cheapest when the
 * mailbox holds most of them, and a rare word ends there too. When that reads its budget of hits without
 * filling the page (the hits are mostly other mailboxes'), the rest of the page comes from the plans below,
 * from where it stopped.
 *
 * PostgreSQL's planner cannot tell a common word from a rare one for prefixes and guessed wrong both
 * ways (a scan of the whole mailbox for a word nobody wrote, or a sort of every hit of a common one): 75
 * to 100 ms over 100,000 messages. So there (and on SQLite after the downward reading) the work is bounded
 * both ways: the newest SEARCH_WINDOW rows of the listing are read by its own index and filtered (common
 * words end here); only if they hold too few hits does the full-text index find the older ones, all of
 * its hits first (materialized: no plan may trade it for a scan).
 */
async function searchNewestFirst(db: Db, listed: Listed, search: SearchTerms, beforeId: number | undefined, count: number): Promise<MailboxRow[]> {
  const dialect = dialectOf(db);
  if (dialect === 'sqlite') {
    const downward = await listedHitsDownward(db, listed, search, beforeId, count);
    if (downward.below === undefined) return downward.rows;
    return [...downward.rows, ...(await searchWindowThenIndex(db, listed, search, downward.below, count - downward.rows.length))];
  }
  return searchWindowThenIndex(db, listed, search, beforeId, count);
}

/** Search hits newest first within a listing, below `beforeId`: the listing's newest rows, then the full-text index (see searchNewestFirst). */
async function searchWindowThenIndex(db: Db, listed: Listed, search: SearchTerms, beforeId: number | undefined, count: number): Promise<MailboxRow[]> {
  const dialect = dialectOf(db);
  let window = db.selectFrom('messages').select('messages.id').where(listed);
  if (beforeId !== undefined) window = window.where('messages.id', '<', beforeId);
  window = window.orderBy('messages.id', 'desc').limit(SEARCH_WINDOW);
  const recent = await db
    .with('recent', () => window)
    .selectFrom('recent')
    .select((eb) => [eb.fn.countAll<number>().as('rows'), eb.fn.min('recent.id').as('oldest')])
    .executeTakeFirstOrThrow();
  if (recent.oldest === null) return [];
  const oldest = Number(recent.oldest);
  // The window's hits: the listed messages in [oldest, beforeId) are exactly the window's.
  const rows = await selectMailboxRows(db)
    .where('messages.id', 'in', window)
    .where(matchesSearch(dialect, search, { from: oldest, below: beforeId }))
    .orderBy('messages.id', 'desc')
    .limit(count)
    .execute();
  // Done when the page is full, or when the window was not: it then held the whole rest of the listing.
  if (rows.length === count || Number(recent.rows) < SEARCH_WINDOW) return rows;
  const older = await selectMailboxRows(
    // Materialized: the full-text index finds every hit first (no plan may trade it for a scan of the mailbox).
    db.with((cte) => cte('hits').materialized(), (qb) => qb.selectFrom('messages').select('messages.id').where(matchesSearch(dialect, search, { below: oldest }))),
  )
    .where('messages.id', 'in', sql<number>`(select id from hits)`)
    .where('messages.id', '<', oldest)
    .where(listed)
    .orderBy('messages.id', 'desc')
    .limit(count - rows.length)
    .execute();
  return [...rows, ...older];
}

/** Hits SQLite reads downward at a time (listedHitsDownward), and at most, before it hands over. */
const HIT_CHUNK = 256;
const HIT_BUDGET = 4 * HIT_CHUNK;
/** Hits the first downward read takes per row of the page. */
const FIRST_READ_PER_ROW = 1.25;

/**
 * SQLite: the listed messages among the search's hits below `below` (all when undefined), newest first,
 * at most `limit`, reading the hits downward HIT_CHUNK at a time (see sqliteHitsBelow). It stops when
 * the page is full or the hits run out (`below` undefined then), or after HIT_BUDGET hits: the rows found
 * so far, and in `below` the lowest hit read, under which the search goes on (every hit at or above it
 * was looked at).
 */
async function listedHitsDownward(
  db: Db,
  listed: Listed,
  search: SearchTerms,
  below: number | undefined,
  limit: number,
): Promise<{ rows: MailboxRow[]; below: number | undefined }> {
  const rows: MailboxRow[] = [];
  let next = below;
  // The first read takes what the page would need if nearly all hits were listed (a mailbox that holds most of them).
  let chunk = Math.min(HIT_CHUNK, Math.ceil(limit * FIRST_READ_PER_ROW));
  for (let read = 0; read < HIT_BUDGET; read += chunk, chunk = HIT_CHUNK) {
    const hits = await sqliteHitsBelow(db, search, next, chunk);
    if (hits.length > 0) {
      const found = await selectMailboxRows(db)
        .where('messages.id', 'in', sql<number>`(select value from json_each(${JSON.stringify(hits)}))`)
        .where(listed)
        .orderBy('messages.id', 'desc')
        .limit(limit - rows.length)
        .execute();
      rows.push(...found);
    }
    if (rows.length >= limit || hits.length < chunk) return { rows, below: undefined };
    next = hits.at(-1);
  }
  return { rows, below: next };
}

/** One message of the user's mailbox, or undefined when it is not in it (whether or not it exists). */
export async function findMailboxMessage(db: Db, userId: number, messageId: number): Promise<MailboxRow | undefined> {
  return (await selectMailboxMessage(db, userId, messageId))[0];
}

const selectMailboxMessage = prepared((db: Db, userId: number, messageId: number) =>
  selectMailboxRows(db).where('messages.id', '=', messageId).where(inMailboxOf(userId)),
);

/** The messages of a conversation that are in the user's mailbox, oldest first, as many of `limit` as fit in one answer. */
export async function listThread(db: Db, userId: number, threadId: number, limit: number): Promise<SizedPage<MailboxRow>> {
  return readPageBySize({
    limit,
    sizeOf: mailboxJsonBytes,
    readChunk: (count, after) => {
      let query = selectMailboxRows(db)
        .where((eb) =>
          eb.or([eb.and([eb('messages.id', '=', threadId), eb('messages.thread_id', 'is', null)]), eb('messages.thread_id', '=', threadId)]),
        )
        .where(inMailboxOf(userId));
      if (after !== undefined) query = query.where('messages.id', '>', after.id);
      return query.orderBy('messages.id').limit(count).execute();
    },
  });
}

export interface FolderCount {
  folder: MailboxFolder;
  total: number;
  unread: number;
}

/** The four folders' counts, from a mailbox's kept counts (mailbox-changes.repository.ts). */
export function folderCountsOf(counts: MailboxCounts): FolderCount[] {
  return [
    { folder: 'inbox', total: counts.inbox_total, unread: counts.inbox_unread },
    { folder: 'trash', total: counts.trash_total, unread: counts.trash_unread },
    { folder: 'spam', total: counts.spam_total, unread: counts.spam_unread },
    { folder: 'sent', total: counts.sent_total, unread: 0 },
  ];
}
