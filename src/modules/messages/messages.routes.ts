import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AdvancedStates } from '../mailbox/mailbox-changes.repository.js';
import { largeAnswerTurn } from '../../db/page-by-size.js';
import { markTruncated, pageOf } from '../shared.schemas.js';
import { parseBatchCommand } from './batch-update.js';
import * as messages from './messages.repository.js';
import { batchUpdateSchema, createMessageSchema, listMessagesSchema } from './messages.schemas.js';
import { applyBatchUpdate } from './messages.service.js';

// With a known caller (a token was given): one sends only as oneself (access, see plugins/auth.ts),
// lists only one's received messages, and changes only those; anonymous callers (AUTH_MODE off, or
// optional without a token) keep the original's behaviour.
export const messagesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/msg/create/',
    { schema: createMessageSchema, config: { access: { self: 'body' } }, preHandler: app.abuseLimits.messagesPerSender },
    async (request) => {
      const { message, states } = await messages.insertMessage(app.db, request.body);
      app.mailboxEvents.changed(states);
      return message;
    },
  );

  app.get('/msg/list/', { schema: listMessagesSchema, config: { access: 'caller' } }, async (request, reply) => {
    const page = await messages.listMessages(app.db, pageOf(request.query), request.callerId);
    markTruncated(reply, page);
    await largeAnswerTurn(page);
    return page.rows;
  });

  app.put('/msg/list/', { schema: batchUpdateSchema, config: { access: 'caller' } }, async (request) => {
    const command = parseBatchCommand(request.body);
    // Ids that are not the caller's are skipped like unknown ids, so only a real recipient can report spam.
    const context = { db: app.db, spamReports: app.spamReports, mailboxStatesChanged: (states: AdvancedStates) => app.mailboxEvents.changed(states) };
    await applyBatchUpdate(context, command, request.callerId);
    return { msg: 'Success' };
  });
};
