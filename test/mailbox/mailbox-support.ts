/** Shared by the mailbox tests: fast bulk mail straight into the database, and reading the views. */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Folder, UnreadMark } from '../../src/db/database.js';
import type { components } from '../../web/src/api-types.js';
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

/** A message as every /users/{id}/... view shows it (issue 14), as /openapi.json states it (generated, like the web client's). */
export type MailboxMessageBody = components['schemas']['MailboxMessage'];

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

// ---- Mailbox states and changes (issue 15): /changes, the Mailbox-State header, and a client's local copy. ----

export interface ChangesBody {
  old_state: string;
  new_state: string;
  created: number[];
  updated: number[];
  destroyed: number[];
  has_more_changes: boolean;
}

/** GET /users/{id}/changes with a raw query (`?since=…&limit=…`): the raw answer, for refusals. */
export function getChanges(app: FastifyInstance, userId: number, query = '', headers: Headers = {}) {
  return app.inject({ method: 'GET', url: `/users/${userId}/changes${query}`, headers });
}

/**
 * GET /users/{id}/changes?since=…&limit=… that must succeed, checked for what every answer promises:
 * exactly the six keys, old_state = since, each id at most once in all three lists, at most `limit` ids.
 */
export async function changesSince(
  app: FastifyInstance,
  userId: number,
  since: string,
  limit?: number,
  headers: Headers = {},
): Promise<ChangesBody> {
  const query = `?since=${encodeURIComponent(since)}${limit === undefined ? '' : `&limit=${limit}`}`;
  const response = await getChanges(app, userId, query, headers);
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json<ChangesBody>();
  assert.deepEqual(Object.keys(body), ['old_state', 'new_state', 'created', 'updated', 'destroyed', 'has_more_changes']);
  assert.equal(body.old_state, since);
  const ids = [...body.created, ...body.updated, ...body.destroyed];
  assert.equal(new Set(ids).size, ids.length, `an id in two places: ${response.body}`);
  assert.ok(ids.length <= (limit ?? 500), `more than ${limit} ids: ${response.body}`);
  return body;
}

/** The mailbox's current state, as GET /users/{id}/folders tells it in its Mailbox-State header. */
export async function foldersState(app: FastifyInstance, userId: number, headers: Headers = {}): Promise<string> {
  const response = await app.inject({ method: 'GET', url: `/users/${userId}/folders`, headers });
  assert.equal(response.statusCode, 200, response.body);
  const state = response.headers['mailbox-state'];
  assert.equal(typeof state, 'string');
  return state as string;
}

/** What a client keeps of a mailbox: each message's id → its folder and read mark as the user sees them. */
export type MailboxCopy = Map<number, { folder: string; unread: 'Y' | 'N' }>;

/** Every page of one listing (limit 200), oldest pages last; the state of its first page. */
async function allPages(app: FastifyInstance, userId: number, query: string, headers: Headers): Promise<{ state: string; messages: MailboxMessageBody[] }> {
  const messages: MailboxMessageBody[] = [];
  let state: string | undefined;
  let cursor: string | null = null;
  do {
    const url: string = `/users/${userId}/messages?limit=200${query}${cursor === null ? '' : `&cursor=${cursor}`}`;
    const response = await app.inject({ method: 'GET', url, headers });
    assert.equal(response.statusCode, 200, response.body);
    const page = response.json<MailboxMessagesPage & { state: string }>();
    assert.equal(response.headers['mailbox-state'], page.state);
    state ??= page.state;
    messages.push(...page.messages);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return { state: state ?? '', messages };
}

/**
 * A fresh listing of the whole mailbox, as a client loads it: every received message (all folders), then
 * the sent ones; a message to oneself is kept as received, as GET /users/{id}/messages/{id} shows it.
 * The state is the received listing's first page's: read before any of it.
 */
export async function freshCopy(app: FastifyInstance, userId: number, headers: Headers = {}): Promise<{ state: string; copy: MailboxCopy }> {
  const received = await allPages(app, userId, '', headers);
  const sent = await allPages(app, userId, '&folder=sent', headers);
  const copy: MailboxCopy = new Map();
  for (const message of sent.messages) copy.set(message.id, { folder: message.folder, unread: message.unread });
  for (const message of received.messages) copy.set(message.id, { folder: message.folder, unread: message.unread });
  return { state: received.state, copy };
}

/** Applies one answer of /changes to a copy as a client does: fetches what was created or updated, drops what was destroyed. */
export async function applyChanges(app: FastifyInstance, userId: number, copy: MailboxCopy, changes: ChangesBody, headers: Headers = {}): Promise<void> {
  for (const id of [...changes.created, ...changes.updated]) {
    const message = await readMail(app, userId, id, headers);
    copy.set(id, { folder: message.folder, unread: message.unread });
  }
  for (const id of changes.destroyed) copy.delete(id);
}

/** A copy as a plain, ordered object, so that two copies compare with a readable diff. */
export function copyAsObject(copy: MailboxCopy): Record<string, string> {
  return Object.fromEntries([...copy].sort(([a], [b]) => a - b).map(([id, { folder, unread }]) => [String(id), `${folder}/${unread}`]));
}

// ---- Mailbox states (issue 15). ----

/** The user's current Mailbox-State, as GET /users/{id}/messages tells it (header and body alike). */
export async function mailboxState(app: FastifyInstance, userId: number, headers: Headers = {}): Promise<string> {
  const response = await app.inject({ method: 'GET', url: `/users/${userId}/messages?limit=1`, headers });
  assert.equal(response.statusCode, 200, response.body);
  const { state } = response.json<{ state: string }>();
  assert.equal(response.headers['mailbox-state'], state);
  return state;
}
