/**
 * The mailbox state a client holds: an opaque string naming a step of one user's mailbox
 * (mailbox_states.seq) in one database. Inside, base64url of `<database tag>.<seq>.<after id>`:
 * "every change up to step seq", or, in the middle of a page of changes (after id > 0), "every
 * change before step seq, and those of step seq up to message `after id`".
 */
import { RequestValidationError } from '../../errors.js';

export interface MailboxState {
  seq: number;
  /** 0: the whole step `seq`; else only its messages up to this id */
  afterId: number;
}

/** The last message id of step `seq` that a state includes: all of them for a whole step. */
export function lastIdSeen(state: MailboxState): number {
  return state.afterId === 0 ? Number.MAX_SAFE_INTEGER : state.afterId;
}

/** The tag of a database: the first 8 hex digits of its generation (settings.database_generation). */
export function databaseTag(generation: string): string {
  return generation.replace(/[^0-9a-f]/gi, '').slice(0, 8).toLowerCase().padEnd(8, '0');
}

export function encodeState(tag: string, state: MailboxState): string {
  return Buffer.from(`${tag}.${state.seq}.${state.afterId}`, 'utf8').toString('base64url');
}

/** A state string longer than any we issue is refused before decoding. */
export const MAX_STATE_LENGTH = 64;
const STATE_TEXT = /^([0-9a-f]{8})\.(0|[1-9]\d{0,15})\.(0|[1-9]\d{0,15})$/;

export type DecodedState = MailboxState & { tag: string };

/** A state we issued (any database's), or a 422 at ["query","since"]. */
export function decodeState(text: string): DecodedState {
  const decoded = /^[A-Za-z0-9_-]{1,64}$/.test(text) ? Buffer.from(text, 'base64url').toString('utf8') : '';
  const match = STATE_TEXT.exec(decoded);
  const seq = Number(match?.[2]);
  const afterId = Number(match?.[3]);
  // Re-encoding must give the same text, so each state has exactly one spelling.
  if (!match || !Number.isSafeInteger(seq) || !Number.isSafeInteger(afterId) || encodeState(match[1]!, { seq, afterId }) !== text) {
    throw new RequestValidationError([{ loc: ['query', 'since'], msg: 'invalid state', type: 'value_error.state' }]);
  }
  return { tag: match[1]!, seq, afterId };
}
