import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { UserNotFound } from '../../errors.js';
import { markTruncated } from '../shared.schemas.js';
import { userExists } from '../users/users.repository.js';
import { decodeCursor, encodeCursor } from './mailbox-cursor.js';
import { countByFolder, listMailbox } from './mailbox.repository.js';
import { DEFAULT_MAILBOX_PAGE, folderCountsSchema, listMailboxSchema } from './mailbox.schemas.js';

// A known caller (a token was given) sees only their own mailbox (access, see plugins/auth.ts);
// anonymous callers (AUTH_MODE off, or optional without a token) see any, as every other route of the original lets them.
export const mailboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  async function assertUserExists(userId: number): Promise<void> {
    if (!(await userExists(app.db, userId))) throw new UserNotFound();
  }

  app.get('/users/:user_id/messages', { schema: listMailboxSchema, config: { access: { self: 'path' } } }, async (request, reply) => {
    const { user_id: userId } = request.params;
    const { folder, unread, cursor } = request.query;
    const limit = request.query.limit ?? DEFAULT_MAILBOX_PAGE;
    const beforeId = cursor === undefined ? undefined : decodeCursor(cursor);
    await assertUserExists(userId);
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

  app.get('/users/:user_id/folders', { schema: folderCountsSchema, config: { access: { self: 'path' } } }, async (request) => {
    await assertUserExists(request.params.user_id);
    return countByFolder(app.db, request.params.user_id);
  });
};
