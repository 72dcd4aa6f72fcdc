/** How a message looks in a user's mailbox: the recipient sees its state, the sender only that it was sent. */
import type { UnreadMark } from '../../db/database.js';
import type { MailboxRow } from './mailbox.repository.js';

export interface MailboxMessage {
  id: number;
  from_userid: number;
  to_userid: number;
  subject: string;
  message: string;
  folder: string;
  unread: UnreadMark;
  /** RFC 3339 UTC with milliseconds; null for messages stored before times were kept */
  created_at: string | null;
  thread_id: number;
  in_reply_to: number | null;
  from_email: string;
  to_email: string;
}

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
