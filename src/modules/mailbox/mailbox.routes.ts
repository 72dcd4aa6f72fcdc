import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MessageNotFound, ThreadNotFound, UserNotFound } from '../../errors.js';
import { MAX_THREAD_MESSAGES } from '../../limits.js';
import { markTruncated } from '../shared.schemas.js';
import { userExists } from '../users/users.repository.js';
import { decodeCursor, encodeCursor } from './mailbox-cursor.js';
import { mailboxMessage, sideOf } from './mailbox-view.js';
import { countByFolder, findMailboxMessage, listMailbox, listThread } from './mailbox.repository.js';
import {
  DEFAULT_MAILBOX_PAGE,
  folderCountsSchema,
  getMailboxMessageSchema,
  getThreadSchema,
  listMailboxSchema,
  sendMailboxMessageSchema,
} from './mailbox.schemas.js';
import { searchTerms } from './search-text.js';
import { checkSendRequest, sendMessage } from './send-message.js';

// A known caller (a token was given) sees and sends only as themselves (access, see plugins/auth.ts);
// anonymous callers (AUTH_MODE off, or optional without a token) may use any mailbox, as every other route of the original lets them.
export const mailboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  async function assertUserExists(userId: number): Promise<void> {
    if (!(await userExists(app.db, userId))) throw new UserNotFound();
  }

  app.get('/users/:user_id/messages', { schema: listMailboxSchema, config: { access: { self: 'path' } } }, async (request, reply) => {
    const { user_id: userId } = request.params;
    const { folder, unread, cursor, q } = request.query;
    const limit = request.query.limit ?? DEFAULT_MAILBOX_PAGE;
    const beforeId = cursor === undefined ? undefined : decodeCursor(cursor);
    await assertUserExists(userId);
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
    const side = folder === 'sent' ? 'sent' : 'received';
    return { messages: rows.map((row) => mailboxMessage(row, side)), next_cursor: more && last ? encodeCursor(last.id) : null };
  });

  app.post(
    '/users/:user_id/messages',
    { schema: sendMailboxMessageSchema, config: { access: { self: 'path' } }, preHandler: app.abuseLimits.messagesPerSender },
    async (request, reply) => {
      const senderId = request.params.user_id;
      checkSendRequest(request.body);
      await assertUserExists(senderId);
      const sent = await sendMessage(app.db, senderId, request.body);
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
    return { thread_id: threadId, messages: rows.map((row) => mailboxMessage(row, sideOf(row, userId))) };
  });

  app.get('/users/:user_id/folders', { schema: folderCountsSchema, config: { access: { self: 'path' } } }, async (request) => {
    await assertUserExists(request.params.user_id);
    return countByFolder(app.db, request.params.user_id);
  });
};
