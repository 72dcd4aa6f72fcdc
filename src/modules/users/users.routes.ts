import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { UserNotFound, EmailAlreadyRegistered } from '../../errors.js';
import { markTruncated, pageOf } from '../shared.schemas.js';
import { largeAnswerTurn } from '../../db/page-by-size.js';
import { hashPassword } from './passwords.js';
import * as users from './users.repository.js';
import { createItemSchema, createUserSchema, getUserSchema, listItemsSchema, listUsersSchema } from './users.schemas.js';

// When the caller is known (a token was given), items are private: other users are shown with
// `items: []`; email, id and is_active stay public (the address book senders need). Anonymous
// callers (AUTH_MODE off, or optional without a token) see everything, as the original.
export interface UsersRoutesOptions {
  passwordMinLength: number;
}

export const usersRoutes: FastifyPluginAsyncTypebox<UsersRoutesOptions> = async (app, options) => {
  app.post('/users/', { schema: createUserSchema(options.passwordMinLength), config: { public: true }, onRequest: app.abuseLimits.signUpPerAddress }, async (request) => {
    const { email, password } = request.body;
    // Answer a known duplicate before paying for a hash; the unique constraint still settles races.
    if (await users.emailExists(app.db, email)) throw new EmailAlreadyRegistered();
    return users.insertUser(app.db, email, await hashPassword(password));
  });

  app.get('/users/', { schema: listUsersSchema, config: { access: 'caller' } }, async (request, reply) => {
    const page = await users.listUsers(app.db, pageOf(request.query), request.callerId);
    markTruncated(reply, page);
    await largeAnswerTurn(page);
    return page.rows;
  });

  app.get('/users/:user_id', { schema: getUserSchema, config: { access: 'caller' } }, async (request) => {
    const user = await users.findUser(app.db, request.params.user_id, request.callerId);
    if (!user) throw new UserNotFound();
    return user;
  });

  app.post('/users/:user_id/items/', { schema: createItemSchema, config: { access: { self: 'path' } } }, async (request) => {
    const { title, description } = request.body;
    return users.insertItem(app.db, request.params.user_id, title, description ?? null);
  });

  app.get('/items/', { schema: listItemsSchema, config: { access: 'caller' } }, async (request, reply) => {
    const page = await users.listItems(app.db, pageOf(request.query), request.callerId);
    markTruncated(reply, page);
    await largeAnswerTurn(page);
    return page.rows;
  });
};
