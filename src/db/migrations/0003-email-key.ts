import { type Kysely, sql } from 'kysely';
import { normalizeEmail } from '../../email.js';
import type { DialectName } from '../create-db.js';

/**
 * Emails are unique regardless of letter case: `email_key` holds the normalised address
 * (normalizeEmail), under a unique index. A database that already holds addresses differing only
 * in case stops here, naming them, before anything is changed.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const { rows } = await sql<{ id: number; email: string }>`select id, email from users order by id`.execute(db);
  const byKey = new Map<string, { id: number; email: string }[]>();
  for (const row of rows) {
    const key = normalizeEmail(row.email);
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  const clashes = [...byKey.values()].filter((accounts) => accounts.length > 1);
  if (clashes.length > 0) {
    const listed = clashes
      .slice(0, 20)
      .map((accounts) => accounts.map((account) => `${account.id} <${account.email}>`).join(', '))
      .join('; ');
    throw new Error(
      `${clashes.length} email address(es) belong to more than one account when letter case is ignored: ${listed}` +
        `${clashes.length > 20 ? '; …' : ''}. Emails must be unique regardless of case. Keep one account per address ` +
        '(change the email of the others, e.g. UPDATE users SET email = … WHERE id = …, or delete them), then start again. ' +
        'Nothing was changed.',
    );
  }

  await db.schema.alterTable('users').addColumn('email_key', 'text').execute();
  // lower() agrees with normalizeEmail on ASCII; the few other addresses are set one by one.
  await sql`update users set email_key = lower(email)`.execute(db);
  for (const row of rows.filter((user) => !/^[\x20-\x7e]*$/.test(user.email))) {
    await sql`update users set email_key = ${normalizeEmail(row.email)} where id = ${row.id}`.execute(db);
  }
  if (dialect === 'postgres') await sql`alter table users alter column email_key set not null`.execute(db);
  // (Not users_email_key: PostgreSQL already named 0001's unique constraint on email so.)
  await db.schema.createIndex('users_email_key_unique').unique().on('users').column('email_key').execute();
}
