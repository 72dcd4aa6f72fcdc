import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { UserNotFound } from '../../errors.js';
import { userExists } from '../users/users.repository.js';
import { DEFAULT_TOP_SENDERS, spamReportCountSchema, topSendersSchema } from './moderation.schemas.js';

// A known caller (a token was given) must be a moderator (access, see plugins/auth.ts); anonymous
// callers (AUTH_MODE off, or optional without a token) get the views as they get every other route.
export const moderationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/users/:user_id/spam-reports', { schema: spamReportCountSchema, config: { access: 'moderator' } }, async (request) => {
    const { user_id: userId } = request.params;
    if (!(await userExists(app.db, userId))) throw new UserNotFound();
    return { user_id: userId, reported_by: await app.spamReports.reportedBy(userId) };
  });

  app.get('/spam/senders', { schema: topSendersSchema, config: { access: 'moderator' } }, async (request) => {
    const senders = await app.spamReports.mostReported(request.query.limit ?? DEFAULT_TOP_SENDERS);
    return senders.map((sender) => ({ user_id: sender.senderId, reported_by: sender.reportedBy }));
  });
};
