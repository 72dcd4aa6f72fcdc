/** SQL for users and their items. Every function takes the database (or a transaction) first. */
import type { Kysely } from 'kysely';
import type { Database, ItemRow, UserRow } from '../../db/database.js';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/create-db.js';
import { EmailAlreadyRegistered, UserNotFound } from '../../errors.js';
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

/** Inserts a user; a duplicate email (also from a concurrent sign-up) is the contract's 400. */
export async function insertUser(db: Db, email: string, hashedPassword: string): Promise<User> {
  try {
    const row = await db
      .insertInto('users')
      .values({ email, hashed_password: hashedPassword })
      .returning(['id', 'email', 'is_active'])
      .executeTakeFirstOrThrow();
    return toUser(row, []);
  } catch (error) {
    if (isUniqueViolation(error)) throw new EmailAlreadyRegistered();
    throw error;
  }
}

export async function emailExists(db: Db, email: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  return row !== undefined;
}

/** What a login needs: the id and the stored hash. */
export async function findCredentials(db: Db, email: string): Promise<{ id: number; hashed_password: string } | undefined> {
  return db.selectFrom('users').select(['id', 'hashed_password']).where('email', '=', email).executeTakeFirst();
}

export async function findEmail(db: Db, id: number): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('email').where('id', '=', id).executeTakeFirst();
  return row?.email;
}

export async function userExists(db: Db, id: number): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst();
  return row !== undefined;
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

export async function listUsers(db: Db, page: { offset: number; limit: number }, visibleTo?: ItemsVisibleTo): Promise<User[]> {
  if (page.limit === 0) return [];
  const rows = await db
    .selectFrom('users')
    .select(['id', 'email', 'is_active'])
    .orderBy('id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const items = await itemsByOwner(db, ownersToShow(rows.map((row) => row.id), visibleTo));
  return rows.map((row) => toUser(row, items.get(row.id) ?? []));
}

/** Inserts an item; an owner that does not exist is refused by the foreign key and answered 404. */
export async function insertItem(db: Db, ownerId: number, title: string, description: string | null): Promise<Item> {
  try {
    const row = await db
      .insertInto('items')
      .values({ owner_id: ownerId, title, description })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toItem(row);
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new UserNotFound();
    throw error;
  }
}

/** Items in id order: everyone's, or only `ownerId`'s when given. */
export async function listItems(db: Db, page: { offset: number; limit: number }, ownerId?: number): Promise<Item[]> {
  if (page.limit === 0) return [];
  let query = db.selectFrom('items').selectAll();
  if (ownerId !== undefined) query = query.where('owner_id', '=', ownerId);
  const rows = await query.orderBy('id').limit(page.limit).offset(page.offset).execute();
  return rows.map(toItem);
}
