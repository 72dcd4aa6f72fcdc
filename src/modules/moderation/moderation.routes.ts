import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotAllowed, UserNotFound } from '../../errors.js';
import { findEmailKey, userExists } from '../users/users.repository.js';
import { DEFAULT_TOP_SENDERS, spamReportCountSchema, topSendersSchema } from './moderation.schemas.js';

export interface ModerationRoutesOptions {
  /** normalised (normalizeEmail); from MODERATOR_EMAILS */
  moderatorEmails: readonly string[];
}

// A known caller (a token was given) must be a moderator; anonymous callers (AUTH_MODE off, or
// optional without a token) get the views as they get every other route.
export const moderationRoutes: FastifyPluginAsyncTypebox<ModerationRoutesOptions> = async (app, options) => {
  const moderators = new Set(options.moderatorEmails);

  async function assertModerator(callerId: number | undefined): Promise<void> {
    if (callerId === undefined) return;
    const emailKey = await findEmailKey(app.db, callerId);
    if (emailKey === undefined || !moderators.has(emailKey)) throw new NotAllowed();
  }

  app.get('/users/:user_id/spam-reports', { schema: spamReportCountSchema }, async (request) => {
    await assertModerator(request.callerId);
    const { user_id: userId } = request.params;
    if (!(await userExists(app.db, userId))) throw new UserNotFound();
    return { user_id: userId, reported_by: await app.spamReports.reportedBy(userId) };
  });

  app.get('/spam/senders', { schema: topSendersSchema }, async (request) => {
    await assertModerator(request.callerId);
    const senders = await app.spamReports.mostReported(request.query.limit ?? DEFAULT_TOP_SENDERS);
    return senders.map((sender) => ({ user_id: sender.senderId, reported_by: sender.reportedBy }));
  });
};
