/**
 * The mailbox state a client holds: an opaque string naming a step of one user's mailbox
 * (mailbox_states.seq) in one database. Inside, base64url of `<database tag>.<seq>.0`, "every change
 * up to step seq", or, between two pages of changes, `<database tag>.<seq>.<after id>.<base>`: "every
 * change before step seq, and those of step seq up to message `after id`, told to a client that
 * held the mailbox as of step `base`" (what it holds decides whether a message is new to it).
 */
import { RequestValidationError } from '../../errors.js';

export interface MailboxState {
  seq: number;
  /** 0: the whole step `seq`; else only its messages up to this id */
  afterId: number;
  /** the step whose mailbox the client held when it began paging: `seq` itself for a whole step */
  base: number;
}

/** A whole step: the state of a mailbox at step `seq`. */
export function wholeStep(seq: number): MailboxState {
  return { seq, afterId: 0, base: seq };
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
  const text = state.afterId === 0 ? `${tag}.${state.seq}.0` : `${tag}.${state.seq}.${state.afterId}.${state.base}`;
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** A state string longer than any we issue is refused before decoding. */
export const MAX_STATE_LENGTH = 64;
const STATE_TEXT = /^([0-9a-f]{8})\.(0|[1-9]\d{0,15})\.(0|[1-9]\d{0,15})(?:\.(0|[1-9]\d{0,15}))?$/;

export type DecodedState = MailboxState & { tag: string };

/** A state we issued (any database's), or a 422 at ["query","since"]. */
export function decodeState(text: string): DecodedState {
  const decoded = /^[A-Za-z0-9_-]{1,64}$/.test(text) ? Buffer.from(text, 'base64url').toString('utf8') : '';
  const match = STATE_TEXT.exec(decoded);
  const seq = Number(match?.[2]);
  const afterId = Number(match?.[3]);
  const base = match?.[4] === undefined ? seq : Number(match[4]);
  const state = { seq, afterId, base };
  // Re-encoding must give the same text, so each state has exactly one spelling; paging never starts after where it is.
  if (!match || ![seq, afterId, base].every(Number.isSafeInteger) || base > seq || encodeState(match[1]!, state) !== text) {
    throw new RequestValidationError([{ loc: ['query', 'since'], msg: 'invalid state', type: 'value_error.state' }]);
  }
  return { tag: match[1]!, ...state };
}
