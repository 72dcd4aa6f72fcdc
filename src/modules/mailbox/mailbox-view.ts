/** How a message looks in a user's mailbox: the recipient sees its state, the sender only that it was sent. */
import type { Static } from 'typebox';
import type { MailboxRow } from './mailbox.repository.js';
import type { MailboxMessage as MailboxMessageSchema } from './mailbox.schemas.js';

/** The answer's shape, as its schema (and so /openapi.json) states it. */
export type MailboxMessage = Static<typeof MailboxMessageSchema>;

export type MailboxSide = 'received' | 'sent';

/** The side a user sees a message from: received, unless they only sent it (or removed the received copy for good). */
export function sideOf(row: MailboxRow, userId: number): MailboxSide {
  return row.to_userid === userId && row.folder !== 'deleted' ? 'received' : 'sent';
}

/**
 * The message as one side sees it. A sender never learns the recipient's folder or read state
 * (not even a spam report): to them it is `sent` and read.
 */
export function mailboxMessage(row: MailboxRow, side: MailboxSide): MailboxMessage {
  return {
    id: row.id,
    from_userid: row.from_userid,
    to_userid: row.to_userid,
    subject: row.subject,
    message: row.message,
    folder: side === 'received' ? row.folder : 'sent',
    unread: side === 'received' ? row.unread : 'N',
    created_at: row.created_at === null ? null : new Date(row.created_at).toISOString(),
    // Messages from before conversations were kept, and every first message, start their own.
    thread_id: row.thread_id ?? row.id,
    in_reply_to: row.in_reply_to,
    from_email: row.from_email,
    to_email: row.to_email,
  };
}
