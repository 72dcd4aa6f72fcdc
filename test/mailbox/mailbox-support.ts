/** Shared by the mailbox tests: fast bulk mail straight into the database, and reading the views. */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Folder, UnreadMark } from '../../src/db/database.js';
import type { MessageBody } from '../helpers/factories.js';

export interface MailboxPageBody {
  messages: MessageBody[];
  next_cursor: string | null;
}

export interface FolderCountBody {
  folder: string;
  total: number;
  unread: number;
}

/** Inserts `count` messages directly (where the API is not the point) and returns their ids in order. */
export async function insertMail(
  app: FastifyInstance,
  from: number,
  to: number,
  count: number,
  state: { folder?: Folder; unread?: UnreadMark } = {},
): Promise<number[]> {
  const ids: number[] = [];
  for (let start = 0; start < count; start += 200) {
    const rows = Array.from({ length: Math.min(200, count - start) }, (_, index) => ({
      from_userid: from,
      to_userid: to,
      subject: `bulk #${start + index}`,
      message: 'm',
      folder: state.folder ?? 'inbox',
      unread: state.unread ?? 'Y',
    }));
    const inserted = await app.db.insertInto('messages').values(rows).returning('id').execute();
    ids.push(...inserted.map((row) => row.id));
  }
  return ids.sort((a, b) => a - b);
}

export async function mailboxPage(
  app: FastifyInstance,
  userId: number,
  query = '',
  headers: Record<string, string> = {},
): Promise<MailboxPageBody> {
  const response = await app.inject({ method: 'GET', url: `/users/${userId}/messages${query}`, headers });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<MailboxPageBody>();
}

export async function folderCounts(app: FastifyInstance, userId: number, headers: Record<string, string> = {}): Promise<FolderCountBody[]> {
  const response = await app.inject({ method: 'GET', url: `/users/${userId}/folders`, headers });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<FolderCountBody[]>();
}

export function idsOf(page: MailboxPageBody): number[] {
  return page.messages.map((message) => message.id);
}
