import { Type, type Static } from 'typebox';
import { MAILBOX_FOLDERS } from '../../db/database.js';
import {
  MAX_ANSWER_BYTES,
  MAX_CURSOR_LENGTH,
  MAX_EMAIL_LENGTH,
  MAX_MESSAGE_LENGTH,
  MAX_SEARCH_LENGTH,
  MAX_SUBJECT_LENGTH,
  MAX_THREAD_MESSAGES,
} from '../../limits.js';
import { Message } from '../messages/messages.schemas.js';
import { detailAnswer, UnprocessableBody } from '../shared.schemas.js';

export const MAX_MAILBOX_PAGE = 200;
export const DEFAULT_MAILBOX_PAGE = 50;
export const MAX_CHANGES_PAGE = 1000;
export const DEFAULT_CHANGES_PAGE = 500;

const UserId = Type.Integer({ description: 'The mailbox’s owner.', examples: [2] });
export const MailboxParams = Type.Object({ user_id: UserId });
export const MessageParams = Type.Object({ user_id: UserId, message_id: Type.Integer({ description: 'The message.', examples: [123] }) });
export const ThreadParams = Type.Object({
  user_id: UserId,
  thread_id: Type.Integer({ description: 'The conversation: the id of its first message (a message’s `thread_id`).', examples: [120] }),
});

// Spelled out as tuples so the types stay the names (a mapped array would widen them).
const [inbox, trash, spam] = MAILBOX_FOLDERS;
function listedFolder(description: string) {
  return Type.Union([Type.Literal(inbox), Type.Literal(trash), Type.Literal(spam), Type.Literal('sent')], { description, examples: [inbox] });
}

const EXAMPLE_MESSAGE = {
  id: 123,
  from_userid: 1,
  to_userid: 2,
  subject: 'Lunch?',
  message: 'Shall we meet at noon?',
  folder: 'inbox',
  unread: 'Y',
  created_at: '2026-11-26T12:00:00.000Z',
  thread_id: 123,
  in_reply_to: null,
  from_email: 'ada@example.com',
  to_email: 'bob@example.com',
};

/**
 * A message as the mailbox views show it: its own shape, the contract's fields first, then time,
 * conversation and addresses. The contract's `PrivateMessage` never gains a field; this one may.
 */
export const MailboxMessage = Type.Object(
  {
    ...Message.properties,
    folder: Type.String({
      description: 'The recipient’s folder (inbox, trash, spam); `sent` when the mailbox’s owner sent it: a sender never sees the recipient’s state.',
      examples: ['inbox'],
    }),
    unread: Type.Union([Type.Literal('Y'), Type.Literal('N')], { description: '"Y" or "N"; always "N" on the sender’s side.' }),
    // No `format: 'date-time'`: the serializer would check it on every message of every answer (17 µs a page).
    created_at: Type.Union([Type.String(), Type.Null()], {
      description:
        'When the service stored it: UTC, RFC 3339 date-time with milliseconds. null for messages stored before times were kept.',
      examples: ['2026-11-26T12:00:00.000Z'],
    }),
    thread_id: Type.Integer({ description: 'The conversation: the id of its first message (a new message starts its own).', examples: [123] }),
    in_reply_to: Type.Union([Type.Integer(), Type.Null()], { description: 'The message it answers; null if none.', examples: [null] }),
    from_email: Type.String({ description: 'The sender’s address.', examples: ['ada@example.com'] }),
    to_email: Type.String({ description: 'The recipient’s address.', examples: ['bob@example.com'] }),
  },
  { $id: 'MailboxMessage', examples: [EXAMPLE_MESSAGE] },
);

export const MailboxQuery = Type.Object({
  folder: Type.Optional(listedFolder('Only this folder (`sent`: the messages the user sent); absent: every folder of the received mail.')),
  unread: Type.Optional(Type.Boolean({ description: 'true: only unread messages, false: only read ones; absent: both.', examples: [true] })),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: MAX_SEARCH_LENGTH,
      description:
        `Full-text search in subject and body, 1 to ${MAX_SEARCH_LENGTH} characters: every word must match, the last one as the start of a word ` +
        '(`lun` finds "Lunch"); letter case and accents are ignored. Words are runs of letters and digits; quotes, operators and other ' +
        'punctuation only separate words. A `q` without any letter or digit filters nothing.',
      examples: ['lunch fri'],
    }),
  ),
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
    state: Type.String({
      description: 'The mailbox’s state when this page was read (also the `Mailbox-State` header): follow changes from it with `/changes`.',
    }),
  },
  { $id: 'MailboxPage', examples: [{ messages: [EXAMPLE_MESSAGE], next_cursor: 'MTIz', state: 'MGE4ZjNjMjEuNDIuMA' }] },
);

export const MailboxThread = Type.Object(
  {
    thread_id: Type.Integer({ description: 'The conversation: the id of its first message.' }),
    messages: Type.Array(MailboxMessage, {
      description: `Its messages in the user’s mailbox, oldest first, each as the user sees it; at most ${MAX_THREAD_MESSAGES}.`,
    }),
  },
  {
    $id: 'MailboxThread',
    examples: [
      {
        thread_id: 123,
        messages: [
          { ...EXAMPLE_MESSAGE, folder: 'inbox', unread: 'N' },
          {
            ...EXAMPLE_MESSAGE,
            id: 124,
            from_userid: 2,
            to_userid: 1,
            subject: 'Re: Lunch?',
            message: 'Yes!',
            folder: 'sent',
            unread: 'N',
            created_at: '2026-11-26T12:05:00.000Z',
            in_reply_to: 123,
            from_email: 'bob@example.com',
            to_email: 'ada@example.com',
          },
        ],
      },
    ],
  },
);

export const MailboxMessageCreate = Type.Object(
  {
    to_userid: Type.Optional(Type.Integer({ description: 'The recipient, by id (or give `to_email`).', examples: [2] })),
    to_email: Type.Optional(
      Type.String({ maxLength: MAX_EMAIL_LENGTH, description: 'The recipient, by address in any letter case (or give `to_userid`).', examples: ['bob@example.com'] }),
    ),
    subject: Type.Optional(
      Type.String({
        maxLength: MAX_SUBJECT_LENGTH,
        description: `At most ${MAX_SUBJECT_LENGTH} characters. Required for a new conversation; a reply defaults to "Re: " and the subject answered.`,
        examples: ['Lunch?'],
      }),
    ),
    message: Type.String({ maxLength: MAX_MESSAGE_LENGTH, description: `At most ${MAX_MESSAGE_LENGTH} characters.`, examples: ['Shall we meet at noon?'] }),
    in_reply_to: Type.Optional(
      Type.Integer({
        description: 'A message in the sender’s mailbox that this answers: the reply joins its conversation and, without a recipient, goes to its other participant.',
        examples: [123],
      }),
    ),
  },
  { $id: 'MailboxMessageCreate' },
);
export type MailboxMessageCreate = Static<typeof MailboxMessageCreate>;

export const FolderCounts = Type.Array(
  Type.Object(
    {
      folder: listedFolder('The folder.'),
      total: Type.Integer({ description: 'Messages in the folder.' }),
      unread: Type.Integer({ description: 'Of those, unread ones (always 0 for `sent`).' }),
    },
    { $id: 'FolderCount' },
  ),
  {
    examples: [
      [
        { folder: 'inbox', total: 12, unread: 3 },
        { folder: 'trash', total: 4, unread: 0 },
        { folder: 'spam', total: 1, unread: 1 },
        { folder: 'sent', total: 7, unread: 0 },
      ],
    ],
  },
);

const notAllowed = detailAnswer('A known caller asking for someone else’s mailbox.', 'Not allowed');
const userNotFound = detailAnswer('No such user.', 'User not found');
const OWN_ONLY = 'With a known caller (a token), only the caller’s own mailbox.';

export const listMailboxSchema = {
  operationId: 'list_mailbox_users__user_id__messages_get',
  tags: ['mailbox'],
  summary: "A user's messages, newest first: received ones by folder and read state, or sent ones; searchable",
  description:
    'Cursor paging over message ids: pass `next_cursor` back as `cursor` for the next (older) page; mail that arrives meanwhile ' +
    `never causes a gap or a repeat. \`q\` searches within the messages listed. ${OWN_ONLY} ` +
    `An answer never exceeds ${MAX_ANSWER_BYTES / (1024 * 1024)} MiB: a page whose messages would not fit holds fewer than \`limit\` ` +
    '(at least one) and has a `next_cursor`.',
  params: MailboxParams,
  querystring: MailboxQuery,
  response: { 200: MailboxPage, 403: notAllowed, 404: userNotFound, 422: UnprocessableBody },
};

export const getMailboxMessageSchema = {
  operationId: 'get_message_users__user_id__messages__message_id__get',
  tags: ['mailbox'],
  summary: 'One message of a user’s mailbox, whole',
  description:
    `A message the user received (in any folder) or sent, as they see it. Reading does not mark it read: use \`PUT /msg/list/\`. ${OWN_ONLY}`,
  params: MessageParams,
  response: {
    200: MailboxMessage,
    403: notAllowed,
    404: Type.Intersect([Type.Object({ detail: Type.String() })], {
      description: '`User not found`, or `Message not found` when the message is not in that mailbox (whether or not it exists elsewhere).',
      examples: [{ detail: 'Message not found' }],
    }),
    422: UnprocessableBody,
  },
};

export const sendMailboxMessageSchema = {
  operationId: 'send_message_users__user_id__messages_post',
  tags: ['mailbox'],
  summary: 'Send as this user: a new conversation, or a reply',
  description:
    'Exactly one of `to_userid` and `to_email`, or neither with `in_reply_to` (the reply goes to the other participant). ' +
    'A reply joins the conversation of the message it answers. The same rate limit, size limits and spam rules as `POST /msg/create/` apply, ' +
    `and the message is also listed by \`GET /msg/list/\`. Answers the message as its sender sees it. ${OWN_ONLY.replace('only the caller’s own mailbox', 'only as oneself')}`,
  params: MailboxParams,
  body: MailboxMessageCreate,
  response: {
    201: MailboxMessage,
    403: notAllowed,
    404: Type.Intersect([Type.Object({ detail: Type.String() })], {
      description: '`User not found` (the sender or the recipient), or `Message not found` (`in_reply_to` is not in the sender’s mailbox).',
      examples: [{ detail: 'User not found' }],
    }),
    422: UnprocessableBody,
    429: detailAnswer('Over the rate limit for sending; Retry-After says when to try again.', 'Too many requests'),
  },
};

export const getThreadSchema = {
  operationId: 'get_thread_users__user_id__threads__thread_id__get',
  tags: ['mailbox'],
  summary: 'A conversation, oldest first, as this user sees it',
  description:
    'The messages of the conversation in the user’s mailbox: received ones in the recipient’s view, sent ones in the sender’s. ' +
    `A conversation longer than ${MAX_THREAD_MESSAGES} messages (or ${MAX_ANSWER_BYTES / (1024 * 1024)} MiB) answers its oldest ones with ` +
    `\`X-Page-Truncated: true\`. ${OWN_ONLY}`,
  params: ThreadParams,
  response: {
    200: MailboxThread,
    403: notAllowed,
    404: Type.Intersect([Type.Object({ detail: Type.String() })], {
      description: '`User not found`, or `Thread not found` when none of its messages is in that mailbox.',
      examples: [{ detail: 'Thread not found' }],
    }),
    422: UnprocessableBody,
  },
};

export const folderCountsSchema = {
  operationId: 'count_folders_users__user_id__folders_get',
  tags: ['mailbox'],
  summary: 'Total and unread messages in inbox, trash and spam, and the messages sent',
  description: `Always the four folders, zeros included. ${OWN_ONLY}`,
  params: MailboxParams,
  response: { 200: FolderCounts, 403: notAllowed, 404: userNotFound, 422: UnprocessableBody },
};

const STATE_EXAMPLE = 'MGE4ZjNjMjEuNDIuMA';

export const ChangesQuery = Type.Object({
  since: Type.Optional(
    Type.String({
      description: 'A state this service gave (`Mailbox-State`, a list’s `state`, or a `new_state`); absent: answers the current state only.',
      examples: [STATE_EXAMPLE],
    }),
  ),
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_CHANGES_PAGE,
      default: DEFAULT_CHANGES_PAGE,
      description: `Ids per answer, 1 to ${MAX_CHANGES_PAGE}; with more changes, \`has_more_changes\` is true: ask again from \`new_state\`.`,
      examples: [DEFAULT_CHANGES_PAGE],
    }),
  ),
});

export const MailboxChanges = Type.Object(
  {
    old_state: Type.String({ description: 'The state asked from (`since`); the current state when `since` was absent.' }),
    new_state: Type.String({ description: 'The state the client is at once it applied this answer.' }),
    created: Type.Array(Type.Integer(), { description: 'Messages new to the mailbox since `old_state`: fetch them.' }),
    updated: Type.Array(Type.Integer(), { description: 'Messages the client has whose folder or read state changed: fetch them again.' }),
    destroyed: Type.Array(Type.Integer(), { description: 'Messages that left the mailbox: drop them.' }),
    has_more_changes: Type.Boolean({ description: 'true: more changes follow; ask again with `since` = `new_state`.' }),
  },
  {
    $id: 'MailboxChanges',
    examples: [{ old_state: STATE_EXAMPLE, new_state: 'MGE4ZjNjMjEuNDUuMA', created: [131], updated: [120, 124], destroyed: [], has_more_changes: false }],
  },
);

export const MailboxEventsStream = Type.String({
  description:
    'Server-Sent Events. `event: state` with `data: {"state":"<state>"}` when the mailbox’s state advances (bursts coalesced, at most one ' +
    'every 250 ms by default; the first at once, with the current state); a comment line `: keep-alive` every 25 s. The client then asks ' +
    '`GET /users/{id}/changes?since=<its state>`.',
  examples: ['event: state\ndata: {"state":"MGE4ZjNjMjEuNDUuMA"}\n\n: keep-alive\n\n'],
});

export const changesSchema = {
  operationId: 'get_changes_users__user_id__changes_get',
  tags: ['mailbox'],
  summary: 'What changed in a mailbox since a state: ids created, updated and destroyed',
  description:
    'Each id appears once, in the list that says what to do with it (created then changed: `created`; gone: `destroyed`). Apply every page ' +
    '(`has_more_changes`) and the copy equals a fresh listing. States stay answerable for the life of the database. ' +
    `A state from another database, or one ahead of this one (a database restored from a backup), is \`410 {"detail":"Cannot calculate changes"}\`: reload. ${OWN_ONLY}`,
  params: MailboxParams,
  querystring: ChangesQuery,
  response: {
    200: MailboxChanges,
    403: notAllowed,
    404: userNotFound,
    410: detailAnswer('The state cannot be brought up to date here: reload the mailbox.', 'Cannot calculate changes'),
    422: UnprocessableBody,
  },
};

export const eventsSchema = {
  operationId: 'stream_events_users__user_id__events_get',
  tags: ['mailbox'],
  summary: 'A push stream of the mailbox’s state (Server-Sent Events)',
  description:
    'Stays open. With a token, the caller must be the user (Authorization header: with `fetch` streaming, no token goes into a URL); the stream ' +
    'ends when the token expires. A user may hold a few streams per instance (EVENTS_MAX_STREAMS_PER_USER, default 5): a new one beyond it ' +
    'closes the oldest. An instance full of streams answers 503. Changes made through any instance reach every instance’s streams.',
  params: MailboxParams,
  response: {
    200: { description: 'The stream.', content: { 'text/event-stream': { schema: MailboxEventsStream } } },
    403: notAllowed,
    404: userNotFound,
    422: UnprocessableBody,
    503: detailAnswer('This instance holds as many streams as it may: try again later, or another instance.', 'Service unavailable'),
  },
};
