/** SQL for users and their items. Every function takes the database (or a transaction) first. */
import { type Kysely, sql } from 'kysely';
import type { Database, ItemRow, UserRow } from '../../db/database.js';
import { inTransaction, isUniqueViolation, lockRowsForUpdate } from '../../db/create-db.js';
import { prepared } from '../../db/prepared.js';
import { jsonBytes, PAGE_BUDGET_BYTES, readPageBySize, type SizedPage } from '../../db/page-by-size.js';
import { MAX_ITEMS_PER_USER } from '../../limits.js';
import { normalizeEmail } from '../../email.js';
import { EmailAlreadyRegistered, HttpError, UserNotFound } from '../../errors.js';
import type { Item, User } from './users.schemas.js';

type Db = Kysely<Database>;

function toUser(row: Pick<UserRow, 'id' | 'email' | 'is_active'>, items: Item[]): User {
  return { email: row.email, id: row.id, is_active: row.is_active === 1, items };
}

function toItem(row: ItemRow): Item {
  return { title: row.title, description: row.description, id: row.id, owner_id: row.owner_id };
}

async function itemsByOwner(db: Db, ownerIds: number[]): Promise<Map<number, Item[]>> {
  const byOwner = new Map<number, Item[]>(ownerIds.map((id) => [id, []]));
  if (ownerIds.length === 0) return byOwner;
  const rows = await db.selectFrom('items').selectAll().where('owner_id', 'in', ownerIds).orderBy('id').execute();
  for (const row of rows) byOwner.get(row.owner_id)?.push(toItem(row));
  return byOwner;
}

/** Inserts a user; a duplicate email in any letter case (also from a concurrent sign-up) is the contract's 400. */
export async function insertUser(db: Db, email: string, hashedPassword: string): Promise<User> {
  try {
    const row = await db
      .insertInto('users')
      .values({ email, email_key: normalizeEmail(email), hashed_password: hashedPassword })
      .returning(['id', 'email', 'is_active'])
      .executeTakeFirstOrThrow();
    return toUser(row, []);
  } catch (error) {
    if (isUniqueViolation(error)) throw new EmailAlreadyRegistered();
    throw error;
  }
}

/** Whether an account has this address, in any letter case. */
export async function emailExists(db: Db, email: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('email_key', '=', normalizeEmail(email)).executeTakeFirst();
  return row !== undefined;
}

/** What a login needs: the id, the stored hash and whether the account is active; the email matches in any case. */
export async function findCredentials(
  db: Db,
  email: string,
): Promise<{ id: number; hashed_password: string; active: boolean } | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'hashed_password', 'is_active'])
    .where('email_key', '=', normalizeEmail(email))
    .executeTakeFirst();
  return row && { id: row.id, hashed_password: row.hashed_password, active: row.is_active === 1 };
}

/** The normalised email of a user (as moderator lists hold them). */
export async function findEmailKey(db: Db, id: number): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('email_key').where('id', '=', id).executeTakeFirst();
  return row?.email_key;
}

/** The id of the user with this address, in any letter case (see email.ts), if there is one. */
export async function findUserIdByEmail(db: Db, email: string): Promise<number | undefined> {
  const row = await db.selectFrom('users').select('id').where('email_key', '=', normalizeEmail(email)).executeTakeFirst();
  return row?.id;
}

export async function userExists(db: Db, id: number): Promise<boolean> {
  return (await selectUserId(db, id)).length > 0;
}

const selectUserId = prepared((db: Db, id: number) => db.selectFrom('users').select('id').where('id', '=', id));

/** Sets whether the user with this email (any letter case) may act; answers their id, undefined when nobody has it. */
export async function setActive(db: Db, email: string, active: boolean): Promise<number | undefined> {
  const row = await db
    .updateTable('users')
    .set({ is_active: active ? 1 : 0 })
    .where('email_key', '=', normalizeEmail(email))
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

/** Whether a user exists and may act (is_active): a token naming anyone else is refused. */
export async function isActiveUser(db: Db, id: number): Promise<boolean> {
  const row = await db.selectFrom('users').select('is_active').where('id', '=', id).executeTakeFirst();
  return row?.is_active === 1;
}

/**
 * Whose items a listing shows: everyone's (no caller known, as the original), or only the caller's;
 * other users then appear with `items: []`, since items are private once callers are known.
 */
export type ItemsVisibleTo = number | undefined;

function ownersToShow(ids: number[], visibleTo: ItemsVisibleTo): number[] {
  return visibleTo === undefined ? ids : ids.filter((id) => id === visibleTo);
}

export async function findUser(db: Db, id: number, visibleTo?: ItemsVisibleTo): Promise<User | undefined> {
  const row = await db.selectFrom('users').select(['id', 'email', 'is_active']).where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const items = await itemsByOwner(db, ownersToShow([row.id], visibleTo));
  return toUser(row, items.get(row.id) ?? []);
}

/** What an Item adds to its text in an answer: keys, punctuation, two ids of up to 16 digits, the comma. */
const ITEM_FRAME_BYTES = 96;
/** What a User adds to its email and items: keys, punctuation, an id of up to 16 digits, `false`, the comma. */
const USER_FRAME_BYTES = 80;

function itemJsonBytes(item: Item): number {
  return ITEM_FRAME_BYTES + jsonBytes(item.title) + jsonBytes(item.description);
}

function userJsonBytes(user: User): number {
  return user.items.reduce((total, item) => total + itemJsonBytes(item), USER_FRAME_BYTES + jsonBytes(user.email));
}

/** A user row before its items are read, with the characters of the items the listing will show. */
interface UserCandidate extends Pick<UserRow, 'id' | 'email' | 'is_active'> {
  item_chars: number;
}

/**
 * Users in id order with their items, as many of `limit` as fit in one answer. The users are read
 * first with the characters of the items they will show (a lower bound of those items' JSON), so
 * items are fetched only for users that may fit; the exact sizes then cut the page.
 */
export async function listUsers(
  db: Db,
  page: { offset: number; limit: number },
  visibleTo?: ItemsVisibleTo,
): Promise<SizedPage<User>> {
  const candidates = await readPageBySize<UserCandidate>({
    limit: page.limit,
    sizeOf: (row) => jsonBytes(row.email) + row.item_chars,
    readChunk: async (count, after) => {
      let query = db
        .selectFrom('users')
        .select((eb) => {
          // SQL counts characters; each takes at least one byte of JSON, so this never overstates.
          let items = eb
            .selectFrom('items')
            .select(sql<number>`coalesce(sum(length(title) + coalesce(length(description), 0)), 0)`.as('chars'))
            .whereRef('items.owner_id', '=', 'users.id');
          if (visibleTo !== undefined) items = items.where('items.owner_id', '=', visibleTo);
          return ['id', 'email', 'is_active', items.as('item_chars')];
        })
        .orderBy('id')
        .limit(count);
      query = after === undefined ? query.offset(page.offset) : query.where('id', '>', after.id);
      const rows = await query.execute();
      return rows.map((row) => ({ ...row, item_chars: Number(row.item_chars ?? 0) }));
    },
  });
  const items = await itemsByOwner(db, ownersToShow(candidates.rows.map((row) => row.id), visibleTo));
  const listed = candidates.rows.map((row) => toUser(row, items.get(row.id) ?? []));
  // Items added since the first read only make users larger: the exact sizes have the last word.
  const users: User[] = [];
  let used = 0;
  for (const user of listed) {
    const size = userJsonBytes(user);
    if (users.length > 0 && used + size > PAGE_BUDGET_BYTES) return { rows: users, truncated: true, bytes: used };
    used += size;
    users.push(user);
  }
  return { rows: users, truncated: candidates.truncated, bytes: used };
}

/** Refused: the owner already has MAX_ITEMS_PER_USER items (one user carries all of them in every answer). */
export class TooManyItems extends HttpError {
  constructor() {
    super(409, `Too many items: a user may own at most ${MAX_ITEMS_PER_USER}`);
  }
}

/**
 * Inserts an item: 404 when the owner does not exist, 409 when they own MAX_ITEMS_PER_USER already.
 * The owner's row is locked (SQLite: one writer at a time) so parallel inserts cannot pass the bound.
 */
export async function insertItem(
  db: Db,
  ownerId: number,
  title: string,
  description: string | null,
): Promise<Item> {
  return inTransaction(db, async (trx) => {
    const ownerQuery = trx.selectFrom('users').select('id').where('id', '=', ownerId);
    // NO KEY UPDATE: it serializes item inserts for this owner without blocking messages that reference the user.
    const owner = await lockRowsForUpdate(trx, ownerQuery, 'no key update').executeTakeFirst();
    if (!owner) throw new UserNotFound();
    const owned = await trx
      .selectFrom('items')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('owner_id', '=', ownerId)
      .executeTakeFirstOrThrow();
    if (Number(owned.count) >= MAX_ITEMS_PER_USER) throw new TooManyItems();
    const row = await trx.insertInto('items').values({ owner_id: ownerId, title, description }).returningAll().executeTakeFirstOrThrow();
    return toItem(row);
  });
}

/** Items in id order from `offset` (everyone's, or only `ownerId`'s), as many of `limit` as fit in one answer. */
export async function listItems(db: Db, page: { offset: number; limit: number }, ownerId?: number): Promise<SizedPage<Item>> {
  return readPageBySize({
    limit: page.limit,
    sizeOf: itemJsonBytes,
    readChunk: async (count, after) => {
      let query = db.selectFrom('items').selectAll();
      if (ownerId !== undefined) query = query.where('owner_id', '=', ownerId);
      query = after === undefined ? query.orderBy('id').limit(count).offset(page.offset) : query.where('id', '>', after.id).orderBy('id').limit(count);
      return (await query.execute()).map(toItem);
    },
  });
}
