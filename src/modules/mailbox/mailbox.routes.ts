import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotAllowed, UserNotFound } from '../../errors.js';
import { markTruncated } from '../shared.schemas.js';
import { userExists } from '../users/users.repository.js';
import { decodeCursor, encodeCursor } from './mailbox-cursor.js';
import { countByFolder, listMailbox } from './mailbox.repository.js';
import { DEFAULT_MAILBOX_PAGE, folderCountsSchema, listMailboxSchema } from './mailbox.schemas.js';

// A known caller (a token was given) sees only their own mailbox; anonymous callers (AUTH_MODE off,
// or optional without a token) see any, as every other route of the original lets them.
export const mailboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  async function assertMailboxVisible(userId: number, callerId: number | undefined): Promise<void> {
    if (callerId !== undefined && callerId !== userId) throw new NotAllowed();
    if (!(await userExists(app.db, userId))) throw new UserNotFound();
  }

  app.get('/users/:user_id/messages', { schema: listMailboxSchema }, async (request, reply) => {
    const { user_id: userId } = request.params;
    const { folder, unread, cursor } = request.query;
    const limit = request.query.limit ?? DEFAULT_MAILBOX_PAGE;
    const beforeId = cursor === undefined ? undefined : decodeCursor(cursor);
    await assertMailboxVisible(userId, request.callerId);
    // One row more than asked tells whether an older page exists, so the last page says null.
    const page = await listMailbox(app.db, userId, {
      folder,
      unread: unread === undefined ? undefined : unread ? 'Y' : 'N',
      beforeId,
      limit: limit + 1,
    });
    const messages = page.rows.slice(0, limit);
    const last = messages.at(-1);
    // A page cut by size has a next row by definition: it is the one that did not fit.
    const more = page.truncated || page.rows.length > limit;
    markTruncated(reply, { truncated: page.truncated && messages.length < limit });
    return { messages, next_cursor: more && last ? encodeCursor(last.id) : null };
  });

  app.get('/users/:user_id/folders', { schema: folderCountsSchema }, async (request) => {
    await assertMailboxVisible(request.params.user_id, request.callerId);
    return countByFolder(app.db, request.params.user_id);
  });
};
