import { Type, type Static } from 'typebox';
import {
  MAX_EMAIL_LENGTH,
  MAX_ITEM_DESCRIPTION_LENGTH,
  MAX_ITEM_TITLE_LENGTH,
  MAX_ITEMS_PER_USER,
  MAX_PASSWORD_LENGTH,
} from '../../limits.js';
import { DetailError, detailAnswer, PAGE_SIZE_NOTE, PagingQuery, UnprocessableBody } from '../shared.schemas.js';

export const Item = Type.Object(
  {
    title: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    id: Type.Integer(),
    owner_id: Type.Integer(),
  },
  { $id: 'Item' },
);
export type Item = Static<typeof Item>;

export const User = Type.Object(
  {
    email: Type.String(),
    id: Type.Integer(),
    is_active: Type.Boolean(),
    items: Type.Array(Item),
  },
  { $id: 'User' },
);
export type User = Static<typeof User>;

/** A sign-up; the shortest password allowed is configuration (PASSWORD_MIN_LENGTH), so the schema is built from it. */
export function userCreate(passwordMinLength: number) {
  return Type.Object(
    {
      email: Type.String({
        format: 'email',
        maxLength: MAX_EMAIL_LENGTH,
        description: 'Unique regardless of letter case; stored as sent.',
        examples: ['ada@example.com'],
      }),
      password: Type.String({
        minLength: passwordMinLength,
        maxLength: MAX_PASSWORD_LENGTH,
        description: `${passwordMinLength} to ${MAX_PASSWORD_LENGTH} characters.`,
        examples: ['correct horse battery staple'],
      }),
    },
    { $id: 'UserCreate' },
  );
}

export const ItemCreate = Type.Object(
  {
    title: Type.String({ maxLength: MAX_ITEM_TITLE_LENGTH, description: `At most ${MAX_ITEM_TITLE_LENGTH} characters.` }),
    description: Type.Optional(
      Type.Union([Type.String({ maxLength: MAX_ITEM_DESCRIPTION_LENGTH }), Type.Null()], {
        description: `At most ${MAX_ITEM_DESCRIPTION_LENGTH} characters, or null.`,
      }),
    ),
  },
  { $id: 'ItemCreate' },
);

export const UserIdParams = Type.Object({ user_id: Type.Integer() });

export function createUserSchema(passwordMinLength: number) {
  return {
    operationId: 'create_user_users__post',
    tags: ['users'],
    summary: 'Create a user',
    body: userCreate(passwordMinLength),
    response: { 200: User, 400: DetailError, 422: UnprocessableBody },
  };
}

export const listUsersSchema = {
  operationId: 'read_users_users__get',
  tags: ['users'],
  summary: 'List users in id order',
  description: PAGE_SIZE_NOTE,
  querystring: PagingQuery,
  response: { 200: Type.Array(User), 422: UnprocessableBody },
};

export const getUserSchema = {
  operationId: 'read_user_users__user_id__get',
  tags: ['users'],
  summary: 'Read one user',
  params: UserIdParams,
  response: { 200: User, 404: DetailError, 422: UnprocessableBody },
};

export const createItemSchema = {
  operationId: 'create_item_for_user_users__user_id__items__post',
  tags: ['items'],
  summary: 'Create an item owned by a user',
  description: `A user owns at most ${MAX_ITEMS_PER_USER} items; one more is a 409.`,
  params: UserIdParams,
  body: ItemCreate,
  response: {
    200: Item,
    403: detailAnswer('A known caller creating an item for someone else.', 'Not allowed'),
    404: DetailError,
    409: detailAnswer(`The owner has ${MAX_ITEMS_PER_USER} items already.`, `Too many items: a user may own at most ${MAX_ITEMS_PER_USER}`),
    422: UnprocessableBody,
  },
};

export const listItemsSchema = {
  operationId: 'read_items_items__get',
  tags: ['items'],
  summary: 'List items in id order',
  description: PAGE_SIZE_NOTE,
  querystring: PagingQuery,
  response: { 200: Type.Array(Item), 422: UnprocessableBody },
};
