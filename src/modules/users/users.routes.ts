import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { UserNotFound, EmailAlreadyRegistered } from '../../errors.js';
import { pageOf } from '../shared.schemas.js';
import { hashPassword } from './passwords.js';
import * as users from './users.repository.js';
import { createItemSchema, createUserSchema, getUserSchema, listItemsSchema, listUsersSchema } from './users.schemas.js';

export const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/users/', { schema: createUserSchema }, async (request) => {
    const { email, password } = request.body;
    // Answer a known duplicate before paying for a hash; the unique constraint still settles races.
    if (await users.emailExists(app.db, email)) throw new EmailAlreadyRegistered();
    return users.insertUser(app.db, email, await hashPassword(password));
  });

  app.get('/users/', { schema: listUsersSchema }, async (request) => users.listUsers(app.db, pageOf(request.query)));

  app.get('/users/:user_id', { schema: getUserSchema }, async (request) => {
    const user = await users.findUser(app.db, request.params.user_id);
    if (!user) throw new UserNotFound();
    return user;
  });

  app.post('/users/:user_id/items/', { schema: createItemSchema }, async (request) => {
    const { title, description } = request.body;
    return users.insertItem(app.db, request.params.user_id, title, description ?? null);
  });

  app.get('/items/', { schema: listItemsSchema }, async (request) => users.listItems(app.db, pageOf(request.query)));
};
