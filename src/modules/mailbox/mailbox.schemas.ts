import { Type, type Static } from 'typebox';
import { MAILBOX_FOLDERS } from '../../db/database.js';
import { Message } from '../messages/messages.schemas.js';
import { MAX_ANSWER_BYTES, MAX_CURSOR_LENGTH } from '../../limits.js';
import { detailAnswer, UnprocessableBody } from '../shared.schemas.js';

export const MAX_MAILBOX_PAGE = 200;
export const DEFAULT_MAILBOX_PAGE = 50;

export const MailboxParams = Type.Object({ user_id: Type.Integer({ description: 'The recipient.', examples: [2] }) });

function folderName(description: string) {
  // Spelled out as a tuple so the type stays the three names (a mapped array would widen it).
  const [inbox, trash, spam] = MAILBOX_FOLDERS;
  return Type.Union([Type.Literal(inbox), Type.Literal(trash), Type.Literal(spam)], { description, examples: [inbox] });
}

/**
 * A message as the mailbox views show it: its own shape, starting from the contract's fields. It may
 * gain fields (dates, threads); the contract's `PrivateMessage` never may.
 */
export const MailboxMessage = Type.Object(Message.properties, { $id: 'MailboxMessage' });

export const MailboxQuery = Type.Object({
  folder: Type.Optional(folderName('Only this folder; absent: every folder.')),
  unread: Type.Optional(Type.Boolean({ description: 'true: only unread messages, false: only read ones; absent: both.', examples: [true] })),
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_MAILBOX_PAGE,
      default: DEFAULT_MAILBOX_PAGE,
      description: `Messages per page, 1 to ${MAX_MAILBOX_PAGE}.`,
      examples: [DEFAULT_MAILBOX_PAGE],
    }),
  ),
  cursor: Type.Optional(
    Type.String({
      description: `The \`next_cursor\` of the previous page (opaque, at most ${MAX_CURSOR_LENGTH} characters); absent: the newest messages.`,
      examples: ['MTIz'],
    }),
  ),
});
export type MailboxQuery = Static<typeof MailboxQuery>;

export const MailboxPage = Type.Object(
  {
    messages: Type.Array(MailboxMessage),
    next_cursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  },
  {
    $id: 'MailboxPage',
    examples: [
      {
        messages: [{ id: 123, from_userid: 1, to_userid: 2, subject: 'Hi', message: 'Lunch?', folder: 'inbox', unread: 'Y' }],
        next_cursor: 'MTIz',
      },
    ],
  },
);

export const FolderCounts = Type.Array(
  Type.Object(
    {
      folder: folderName('The folder.'),
      total: Type.Integer({ description: 'Messages in the folder.' }),
      unread: Type.Integer({ description: 'Of those, unread ones.' }),
    },
    { $id: 'FolderCount' },
  ),
  {
    examples: [
      [
        { folder: 'inbox', total: 12, unread: 3 },
        { folder: 'trash', total: 4, unread: 0 },
        { folder: 'spam', total: 1, unread: 1 },
      ],
    ],
  },
);

const notAllowed = detailAnswer('A known caller asking for someone else’s mailbox.', 'Not allowed');
const userNotFound = detailAnswer('No such user.', 'User not found');

export const listMailboxSchema = {
  operationId: 'list_mailbox_users__user_id__messages_get',
  tags: ['mailbox'],
  summary: "A user's received messages, newest first, by folder and read state",
  description:
    'Cursor paging over message ids: pass `next_cursor` back as `cursor` for the next (older) page; mail that arrives meanwhile ' +
    'never causes a gap or a repeat. With a known caller (a token), only the caller’s own mailbox. ' +
    `An answer never exceeds ${MAX_ANSWER_BYTES / (1024 * 1024)} MiB: a page whose messages would not fit holds fewer than \`limit\` ` +
    '(at least one) and has a `next_cursor`.',
  params: MailboxParams,
  querystring: MailboxQuery,
  response: { 200: MailboxPage, 403: notAllowed, 404: userNotFound, 422: UnprocessableBody },
};

export const folderCountsSchema = {
  operationId: 'count_folders_users__user_id__folders_get',
  tags: ['mailbox'],
  summary: 'Total and unread messages in inbox, trash and spam',
  description: 'Always the three folders, zeros included. With a known caller (a token), only the caller’s own mailbox.',
  params: MailboxParams,
  response: { 200: FolderCounts, 403: notAllowed, 404: userNotFound, 422: UnprocessableBody },
};
