import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotAllowed, UserNotFound } from '../../errors.js';
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

  app.get('/users/:user_id/messages', { schema: listMailboxSchema }, async (request) => {
    const { user_id: userId } = request.params;
    const { folder, unread, cursor } = request.query;
    const limit = request.query.limit ?? DEFAULT_MAILBOX_PAGE;
    const beforeId = cursor === undefined ? undefined : decodeCursor(cursor);
    await assertMailboxVisible(userId, request.callerId);
    // One row more than asked tells whether an older page exists, so the last page says null.
    const rows = await listMailbox(app.db, userId, {
      folder,
      unread: unread === undefined ? undefined : unread ? 'Y' : 'N',
      beforeId,
      limit: limit + 1,
    });
    const messages = rows.slice(0, limit);
    const last = messages.at(-1);
    return { messages, next_cursor: rows.length > limit && last ? encodeCursor(last.id) : null };
  });

  app.get('/users/:user_id/folders', { schema: folderCountsSchema }, async (request) => {
    await assertMailboxVisible(request.params.user_id, request.callerId);
    return countByFolder(app.db, request.params.user_id);
  });
};
