/**
 * POST /users/{id}/messages: a new conversation to a user (by id or address), or a reply that joins
 * the conversation of a message in the sender's mailbox.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { MessageNotFound, RequestValidationError, UserNotFound } from '../../errors.js';
import { MAX_SUBJECT_LENGTH } from '../../limits.js';
import { insertMessage } from '../messages/messages.repository.js';
import { findUserIdByEmail } from '../users/users.repository.js';
import type { AdvancedStates } from './mailbox-changes.repository.js';
import { findMailboxMessage, type MailboxRow } from './mailbox.repository.js';

export interface SendRequest {
  to_userid?: number | undefined;
  to_email?: string | undefined;
  subject?: string | undefined;
  message: string;
  in_reply_to?: number | undefined;
}

/** The rules the schema cannot say: one recipient (or a reply), and a subject for a new conversation. */
export function checkSendRequest(body: SendRequest): void {
  const issues = [];
  if (body.to_userid !== undefined && body.to_email !== undefined) {
    issues.push({ loc: ['body', 'to_email'], msg: 'give to_userid or to_email, not both', type: 'value_error.conflict' });
  } else if (body.to_userid === undefined && body.to_email === undefined && body.in_reply_to === undefined) {
    issues.push({ loc: ['body', 'to_userid'], msg: 'to_userid or to_email required', type: 'value_error.missing' });
  }
  if (body.subject === undefined && body.in_reply_to === undefined) {
    issues.push({ loc: ['body', 'subject'], msg: 'field required', type: 'value_error.missing' });
  }
  if (issues.length > 0) throw new RequestValidationError(issues);
}

const REPLY_PREFIX = /^re:\s/i;

/** "Re: " and the subject answered, once however deep the conversation goes, within the subject limit. */
export function replySubject(original: string): string {
  if (REPLY_PREFIX.test(original)) return original;
  const subject = `Re: ${original}`;
  return subject.length <= MAX_SUBJECT_LENGTH ? subject : Array.from(subject).slice(0, MAX_SUBJECT_LENGTH).join('');
}

/** The other participant of a message, seen from one of them (a message to oneself answers oneself). */
function otherParticipant(message: MailboxRow, userId: number): number {
  return message.from_userid === userId ? message.to_userid : message.from_userid;
}

/** Sends as `senderId` (who exists): the stored message, addresses included, and the mailbox steps it made. */
export async function sendMessage(db: Kysely<Database>, senderId: number, body: SendRequest): Promise<{ sent: MailboxRow; states: AdvancedStates }> {
  const original = body.in_reply_to === undefined ? undefined : await findMailboxMessage(db, senderId, body.in_reply_to);
  if (body.in_reply_to !== undefined && original === undefined) throw new MessageNotFound();
  const recipientId = await recipientOf(db, body, original, senderId);
  const subject = body.subject ?? replySubject(original?.subject ?? '');
  const stored = await insertMessage(db, {
    from_userid: senderId,
    to_userid: recipientId,
    subject,
    message: body.message,
    thread_id: original ? (original.thread_id ?? original.id) : undefined,
    in_reply_to: original?.id,
  });
  const sent = await findMailboxMessage(db, senderId, stored.message.id);
  // The sender's own message is in their mailbox from the moment it is stored: a missing one is a bug.
  if (sent === undefined) throw new Error(`message ${stored.message.id} was stored but cannot be read back`);
  return { sent, states: stored.states };
}

async function recipientOf(db: Kysely<Database>, body: SendRequest, original: MailboxRow | undefined, senderId: number): Promise<number> {
  if (body.to_userid !== undefined) return body.to_userid;
  if (body.to_email !== undefined) {
    const id = await findUserIdByEmail(db, body.to_email);
    if (id === undefined) throw new UserNotFound();
    return id;
  }
  if (original === undefined) throw new Error('checkSendRequest lets no message without a recipient through');
  return otherParticipant(original, senderId);
}
