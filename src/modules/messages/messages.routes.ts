import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pageOf } from '../shared.schemas.js';
import { parseBatchCommand } from './batch-update.js';
import * as messages from './messages.repository.js';
import { batchUpdateSchema, createMessageSchema, listMessagesSchema } from './messages.schemas.js';
import { applyBatchUpdate } from './messages.service.js';

export const messagesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/msg/create/', { schema: createMessageSchema }, async (request) => messages.insertMessage(app.db, request.body));

  app.get('/msg/list/', { schema: listMessagesSchema }, async (request) => messages.listMessages(app.db, pageOf(request.query)));

  app.put('/msg/list/', { schema: batchUpdateSchema }, async (request) => {
    const command = parseBatchCommand(request.body);
    await applyBatchUpdate({ db: app.db, dialect: app.dialect, spamReports: app.spamReports }, command);
    return { msg: 'Success' };
  });
};
