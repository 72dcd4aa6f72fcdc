/** Shared by the mailbox tests: fast bulk mail straight into the database, and reading the views. */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Folder, UnreadMark } from '../../src/db/database.js';
import type { MessageBody } from '../helpers/factories.js';

export interface MailboxPageBody {
  messages: MailboxMessageBody[];
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
  // Every page carries the mailbox's state, in its body and its Mailbox-State header alike; the stories here look at the rest.
  const { state, ...page } = response.json<MailboxPageBody & { state: string }>();
  assert.equal(typeof state, 'string');
  assert.equal(response.headers['mailbox-state'], state);
  return page;
}

export async function folderCounts(app: FastifyInstance, userId: number, headers: Record<string, string> = {}): Promise<FolderCountBody[]> {
  const response = await app.inject({ method: 'GET', url: `/users/${userId}/folders`, headers });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<FolderCountBody[]>();
}

export function idsOf(page: MailboxPageBody): number[] {
  return page.messages.map((message) => message.id);
}

// ---- Conversations (issue 14): the mailbox message, sending, reading one message and threads. ----

/** A message as every /users/{id}/... view shows it (issue 14), keys in this order. */
export interface MailboxMessageBody {
  id: number;
  from_userid: number;
  to_userid: number;
  subject: string;
  message: string;
  folder: string;
  unread: 'Y' | 'N';
  created_at: string | null;
  thread_id: number;
  in_reply_to: number | null;
  from_email: string;
  to_email: string;
}

export const MAILBOX_MESSAGE_KEYS = [
  'id',
  'from_userid',
  'to_userid',
  'subject',
  'message',
  'folder',
  'unread',
  'created_at',
  'thread_id',
  'in_reply_to',
  'from_email',
  'to_email',
] as const;

export interface MailboxMessagesPage {
  messages: MailboxMessageBody[];
  next_cursor: string | null;
}

export interface ThreadBody {
  thread_id: number;
  messages: MailboxMessageBody[];
}

type Headers = Record<string, string>;
type Reply = { statusCode: number; body: string };

/** POST /users/{id}/messages: the raw answer, for the tests that look at refusals. */
export function postMail(app: FastifyInstance, userId: number, payload: Record<string, unknown>, headers: Headers = {}) {
  return app.inject({ method: 'POST', url: `/users/${userId}/messages`, payload, headers });
}

/** POST /users/{id}/messages that must succeed (201): the message in the sender's view. */
export async function sendMail(app: FastifyInstance, userId: number, payload: Record<string, unknown>, headers: Headers = {}): Promise<MailboxMessageBody> {
  const response = await postMail(app, userId, payload, headers);
  assert.equal(response.statusCode, 201, response.body);
  return response.json<MailboxMessageBody>();
}

/** GET /users/{id}/messages/{message_id} that must succeed. */
export async function readMail(app: FastifyInstance, userId: number, messageId: number, headers: Headers = {}): Promise<MailboxMessageBody> {
  const response = await app.inject({ method: 'GET', url: `/users/${userId}/messages/${messageId}`, headers });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<MailboxMessageBody>();
}

/** GET /users/{id}/threads/{thread_id} that must succeed. */
export async function readThread(app: FastifyInstance, userId: number, threadId: number, headers: Headers = {}): Promise<ThreadBody> {
  const response = await app.inject({ method: 'GET', url: `/users/${userId}/threads/${threadId}`, headers });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<ThreadBody>();
}

/** GET /users/{id}/messages with a query, typed as the issue-14 mailbox page. */
export async function mailboxMessages(app: FastifyInstance, userId: number, query = '', headers: Headers = {}): Promise<MailboxMessagesPage> {
  return (await mailboxPage(app, userId, query, headers)) as unknown as MailboxMessagesPage;
}

/** An error answer with exactly this status and `{"detail": detail}` body. */
export function assertDetail(response: Reply, status: number, detail: unknown, context = '') {
  assert.equal(response.statusCode, status, `${context} ${response.body}`);
  assert.deepEqual(JSON.parse(response.body), { detail }, context);
}

/** Every message id stored, in order: what a refused request must leave as it was. */
export async function storedMessageIds(app: FastifyInstance): Promise<number[]> {
  return (await app.db.selectFrom('messages').select('id').orderBy('id').execute()).map((row) => row.id);
}

/** The contract's seven keys of a mailbox message, to compare with what /msg/create/ answered. */
export function pickContractKeys(message: MailboxMessageBody): MessageBody {
  const { id, from_userid, to_userid, subject, message: text, folder, unread } = message;
  return { id, from_userid, to_userid, subject, message: text, folder, unread };
}
