import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DialectName } from '../create-db.js';

/**
 * A random id for this database, made once. The spam counters in Redis carry it beside their
 * versions, so a Redis that mirrored another database (or this one before a restore) is recognised.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('name', 'text', (column) => column.primaryKey())
    .addColumn('value', 'text', (column) => column.notNull())
    .execute();
  await (db as Kysely<{ settings: { name: string; value: string } }>)
    .insertInto('settings')
    .values({ name: 'database_generation', value: randomUUID() })
    .execute();
}
