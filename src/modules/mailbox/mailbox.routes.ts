import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CannotCalculateChanges, MessageNotFound, ServiceUnavailable, ThreadNotFound, UserNotFound } from '../../errors.js';
import { MAX_THREAD_MESSAGES } from '../../limits.js';
import { largeAnswerTurn } from '../../db/page-by-size.js';
import { markTruncated } from '../shared.schemas.js';
import { userExists } from '../users/users.repository.js';
import { foldChanges } from './mailbox-changes.js';
import { currentSeq, type MailboxCounts, readChanges, readMailboxCounts } from './mailbox-changes.repository.js';
import { decodeCursor, encodeCursor } from './mailbox-cursor.js';
import { decodeState, wholeStep } from './mailbox-state.js';
import { mailboxMessage, sideOf } from './mailbox-view.js';
import { findMailboxMessage, folderCountsOf, listMailbox, listThread } from './mailbox.repository.js';
import {
  changesSchema,
  DEFAULT_CHANGES_PAGE,
  DEFAULT_MAILBOX_PAGE,
  eventsSchema,
  folderCountsSchema,
  getMailboxMessageSchema,
  getThreadSchema,
  listMailboxSchema,
  sendMailboxMessageSchema,
} from './mailbox.schemas.js';
import { searchTerms } from './search-text.js';
import { checkSendRequest, sendMessage } from './send-message.js';

/** The response header that carries the mailbox's state on listings and counts. */
export const MAILBOX_STATE_HEADER = 'mailbox-state';
/** What an EventSource waits before reconnecting to a stream that ended (ms). */
const RECONNECT_HINT_MS = 3000;
const STREAMS_FULL_RETRY_SECONDS = 5;

// A known caller (a token was given) sees and sends only as themselves (access, see plugins/auth.ts);
// anonymous callers (AUTH_MODE off, or optional without a token) may use any mailbox, as every other route of the original lets them.
export const mailboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  async function assertUserExists(userId: number): Promise<void> {
    if (!(await userExists(app.db, userId))) throw new UserNotFound();
  }

  /** The user's mailbox (its step and counts); 404 when there is no such user. */
  async function mailboxOf(userId: number): Promise<MailboxCounts> {
    const mailbox = await readMailboxCounts(app.db, userId);
    if (mailbox === undefined) throw new UserNotFound();
    return mailbox;
  }

  /** The state text of the user's mailbox; 404 when there is no such user. */
  async function stateOf(userId: number): Promise<string> {
    return app.mailboxEvents.stateText(wholeStep((await mailboxOf(userId)).seq));
  }

  app.get('/users/:user_id/messages', { schema: listMailboxSchema, config: { access: { self: 'path' } } }, async (request, reply) => {
    const { user_id: userId } = request.params;
    const { folder, unread, cursor, q } = request.query;
    const limit = request.query.limit ?? DEFAULT_MAILBOX_PAGE;
    const beforeId = cursor === undefined ? undefined : decodeCursor(cursor);
    // Read before the messages: a page is never older than its state (at worst a change is told twice).
    const state = await stateOf(userId);
    reply.header(MAILBOX_STATE_HEADER, state);
    // One row more than asked tells whether an older page exists, so the last page says null.
    const page = await listMailbox(app.db, userId, {
      folder,
      unread: unread === undefined ? undefined : unread ? 'Y' : 'N',
      search: q === undefined ? undefined : searchTerms(q),
      beforeId,
      limit: limit + 1,
    });
    const rows = page.rows.slice(0, limit);
    const last = rows.at(-1);
    // A page cut by size has a next row by definition: it is the one that did not fit.
    const more = page.truncated || page.rows.length > limit;
    markTruncated(reply, { truncated: page.truncated && rows.length < limit });
    await largeAnswerTurn(page);
    const side = folder === 'sent' ? 'sent' : 'received';
    return { messages: rows.map((row) => mailboxMessage(row, side)), next_cursor: more && last ? encodeCursor(last.id) : null, state };
  });

  app.post(
    '/users/:user_id/messages',
    { schema: sendMailboxMessageSchema, config: { access: { self: 'path' } }, preHandler: app.abuseLimits.messagesPerSender },
    async (request, reply) => {
      const senderId = request.params.user_id;
      checkSendRequest(request.body);
      await assertUserExists(senderId);
      const { sent, states } = await sendMessage(app.db, senderId, request.body);
      app.mailboxEvents.changed(states);
      return reply.code(201).send(mailboxMessage(sent, 'sent'));
    },
  );

  app.get('/users/:user_id/messages/:message_id', { schema: getMailboxMessageSchema, config: { access: { self: 'path' } } }, async (request) => {
    const { user_id: userId, message_id: messageId } = request.params;
    await assertUserExists(userId);
    const row = await findMailboxMessage(app.db, userId, messageId);
    if (row === undefined) throw new MessageNotFound();
    return mailboxMessage(row, sideOf(row, userId));
  });

  app.get('/users/:user_id/threads/:thread_id', { schema: getThreadSchema, config: { access: { self: 'path' } } }, async (request, reply) => {
    const { user_id: userId, thread_id: threadId } = request.params;
    await assertUserExists(userId);
    // One row more than answered tells whether the conversation goes on past the limit.
    const page = await listThread(app.db, userId, threadId, MAX_THREAD_MESSAGES + 1);
    if (page.rows.length === 0) throw new ThreadNotFound();
    const rows = page.rows.slice(0, MAX_THREAD_MESSAGES);
    markTruncated(reply, { truncated: page.truncated || page.rows.length > rows.length });
    await largeAnswerTurn(page);
    return { thread_id: threadId, messages: rows.map((row) => mailboxMessage(row, sideOf(row, userId))) };
  });

  app.get('/users/:user_id/folders', { schema: folderCountsSchema, config: { access: { self: 'path' } } }, async (request, reply) => {
    const userId = request.params.user_id;
    // Kept counts: one row, whatever the mailbox's size; the state comes from the same row, so the two agree.
    const counts = await mailboxOf(userId);
    reply.header(MAILBOX_STATE_HEADER, app.mailboxEvents.stateText(wholeStep(counts.seq)));
    return folderCountsOf(counts);
  });

  app.get('/users/:user_id/changes', { schema: changesSchema, config: { access: { self: 'path' } } }, async (request) => {
    const userId = request.params.user_id;
    const { since } = request.query;
    const limit = request.query.limit ?? DEFAULT_CHANGES_PAGE;
    const from = since === undefined ? undefined : decodeState(since);
    if (from === undefined) {
      const state = await stateOf(userId);
      return { old_state: state, new_state: state, created: [], updated: [], destroyed: [], has_more_changes: false };
    }
    await assertUserExists(userId);
    if (from.tag !== app.mailboxEvents.tag) throw new CannotCalculateChanges();
    // A message is at most two rows (its received and sent sides): twice the limit, and one more, tells whether more follow.
    const { current, rows } = await readChanges(app.db, userId, from, 2 * limit + 1);
    // Ahead of this database: a state of a database since restored from an older backup.
    if (from.seq > current) throw new CannotCalculateChanges();
    const page = foldChanges(userId, from, rows, limit, current);
    return {
      old_state: since ?? '',
      new_state: app.mailboxEvents.stateText(page.newState),
      created: page.created,
      updated: page.updated,
      destroyed: page.destroyed,
      has_more_changes: page.hasMoreChanges,
    };
  });

  app.get('/users/:user_id/events', { schema: eventsSchema, config: { access: { self: 'path' } } }, async (request, reply) => {
    const userId = request.params.user_id;
    const { streams } = app.mailboxEvents;
    const { seq } = await mailboxOf(userId);
    if (!streams.hasRoom()) throw new ServiceUnavailable(STREAMS_FULL_RETRY_SECONDS);
    // From here the stream is ours: Fastify sends nothing more (its onSend hooks included, hence the headers here).
    reply.hijack();
    const response = reply.raw;
    // No idle timeout: the heartbeat keeps proxies awake; a client that stops reading is dropped by the stream's buffer bound.
    response.socket?.setTimeout(0);
    const set = Object.entries(reply.getHeaders()).filter((entry): entry is [string, string | number | string[]] => entry[1] !== undefined);
    response.writeHead(200, {
      ...Object.fromEntries(set),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx and other proxies must pass events on at once, not buffer them.
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    response.write(`retry: ${RECONNECT_HINT_MS}\n\n`);
    if (!streams.open(userId, response, request.tokenExpiresAt)) return;
    streams.notify(userId, seq);
    // A change between the read above and the stream's opening would not be heard: read once more.
    currentSeq(app.db, userId).then(
      (latest) => streams.notify(userId, latest),
      () => {},
    );
  });
};
