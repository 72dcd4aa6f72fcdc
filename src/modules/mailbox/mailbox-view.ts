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
    created_at: row.created_at === null ? null : isoTime(row.created_at),
    // Messages from before conversations were kept, and every first message, start their own.
    thread_id: row.thread_id ?? row.id,
    in_reply_to: row.in_reply_to,
    from_email: row.from_email,
    to_email: row.to_email,
  };
}

const DAY_MS = 86_400_000;
/** Date's range: ±100,000,000 days from 1970. */
const MAX_TIME_MS = 8.64e15;
/** The last day isoTime wrote, and its text up to the time ("2026-11-27T"). */
let lastDay = Number.NaN;
let lastDayText = '';

const twoDigits = (value: number) => (value < 10 ? `0${value}` : `${value}`);

/**
 * `new Date(ms).toISOString()`, at a fifth of its cost for the times of one day: the day's text is
 * made once (the messages of a page are mostly of a few days), the time of day by arithmetic.
 */
export function isoTime(ms: number): string {
  // Out of Date's range (it throws) or not a whole millisecond (it truncates): as Date does.
  if (!Number.isInteger(ms) || Math.abs(ms) > MAX_TIME_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay) {
    lastDayText = new Date(day * DAY_MS).toISOString().slice(0, -'00:00:00.000Z'.length);
    lastDay = day;
  }
  let rest = ms - day * DAY_MS;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  const millisText = millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : `${millis}`;
  return `${lastDayText}${twoDigits(hours)}:${twoDigits(minutes)}:${twoDigits(seconds)}.${millisText}Z`;
}
