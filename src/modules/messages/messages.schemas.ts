import { Type, type Static } from 'typebox';
import { MAX_MESSAGE_LENGTH, MAX_SUBJECT_LENGTH } from '../../limits.js';
import { DetailError, PAGE_SIZE_NOTE, PagingQuery, UnprocessableBody } from '../shared.schemas.js';

/** What a sender writes; the stored message adds its id before and its state after (the contract's key order). */
const WRITTEN = {
  from_userid: Type.Integer(),
  to_userid: Type.Integer(),
  subject: Type.String({ maxLength: MAX_SUBJECT_LENGTH, description: `At most ${MAX_SUBJECT_LENGTH} characters.` }),
  message: Type.String({ maxLength: MAX_MESSAGE_LENGTH, description: `At most ${MAX_MESSAGE_LENGTH} characters.` }),
};

export const MessageCreate = Type.Object(WRITTEN, { $id: 'PrivateMessageCreate' });

export const Message = Type.Object(
  {
    id: Type.Integer(),
    ...WRITTEN,
    folder: Type.String({ examples: ['inbox'] }),
    unread: Type.Union([Type.Literal('Y'), Type.Literal('N')]),
  },
  { $id: 'PrivateMessage' },
);
export type Message = Static<typeof Message>;

/** A flag: "true"/"false" as the original took them, JSON booleans too; absent or null leaves things as they are. */
const Flag = Type.Optional(
  Type.Union([Type.String({ examples: ['true', 'false'] }), Type.Boolean(), Type.Null()], {
    description: '"true" or "false" (JSON true/false also accepted); absent or null leaves it as is.',
  }),
);

export const BatchUpdate = Type.Object(
  {
    message_id_list: Type.Array(Type.Integer(), {
      description: '1 to 10 message ids; numeric strings such as "7" are accepted. Unknown ids are skipped.',
      examples: [[1, 2, 3]],
    }),
    read: Flag,
    trash: Flag,
    spam: Flag,
  },
  { $id: 'PrivateMessageUpdate' },
);
export type BatchUpdate = Static<typeof BatchUpdate>;

export const BatchUpdateResult = Type.Object({ msg: Type.String({ examples: ['Success'] }) }, { $id: 'PrivateMessageUpdateResult' });

export const createMessageSchema = {
  operationId: 'create_message_msg_create__post',
  tags: ['messages'],
  summary: 'Send a message',
  body: MessageCreate,
  response: { 200: Message, 404: DetailError, 422: UnprocessableBody },
};

export const listMessagesSchema = {
  operationId: 'get_message_list_msg_list__get',
  tags: ['messages'],
  summary: 'List messages in id order',
  description: PAGE_SIZE_NOTE,
  querystring: PagingQuery,
  response: { 200: Type.Array(Message), 422: UnprocessableBody },
};

export const batchUpdateSchema = {
  operationId: 'put_update_msg_list__put',
  tags: ['messages'],
  summary: 'Mark read/unread, trash/restore, report spam/not spam, for up to 10 messages at once',
  description:
    'All listed messages change or none do. Folder rules: `deleted` never changes; `sent` only moves to `deleted` on trash=true; ' +
    'any other folder: trash=true → trash, trash=false → inbox, then spam=true → spam, spam=false → inbox; read=true → unread "N", read=false → unread "Y".',
  body: BatchUpdate,
  response: { 200: BatchUpdateResult, 422: UnprocessableBody },
};
