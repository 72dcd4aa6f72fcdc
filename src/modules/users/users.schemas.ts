import { Type, type Static } from 'typebox';
import { DetailError, PagingQuery, UnprocessableBody } from '../shared.schemas.js';

export const Item = Type.Object({
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  id: Type.Integer(),
  owner_id: Type.Integer(),
});
export type Item = Static<typeof Item>;

export const User = Type.Object({
  email: Type.String(),
  id: Type.Integer(),
  is_active: Type.Boolean(),
  items: Type.Array(Item),
});
export type User = Static<typeof User>;

export const UserCreate = Type.Object({
  email: Type.String({ format: 'email', maxLength: 254, examples: ['ada@example.com'] }),
  password: Type.String({ examples: ['correct horse battery staple'] }),
});

export const ItemCreate = Type.Object({
  title: Type.String(),
  description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

export const UserIdParams = Type.Object({ user_id: Type.Integer() });

export const createUserSchema = {
  tags: ['users'],
  summary: 'Create a user',
  body: UserCreate,
  response: { 200: User, 400: DetailError, 422: UnprocessableBody },
};

export const listUsersSchema = {
  tags: ['users'],
  summary: 'List users in id order',
  querystring: PagingQuery,
  response: { 200: Type.Array(User), 422: UnprocessableBody },
};

export const getUserSchema = {
  tags: ['users'],
  summary: 'Read one user',
  params: UserIdParams,
  response: { 200: User, 404: DetailError, 422: UnprocessableBody },
};

export const createItemSchema = {
  tags: ['items'],
  summary: 'Create an item owned by a user',
  params: UserIdParams,
  body: ItemCreate,
  response: { 200: Item, 404: DetailError, 422: UnprocessableBody },
};

export const listItemsSchema = {
  tags: ['items'],
  summary: 'List items in id order',
  querystring: PagingQuery,
  response: { 200: Type.Array(Item), 422: UnprocessableBody },
};
