/**
 * The opaque paging cursor of GET /users/{id}/messages: base64url of the last id a page returned.
 * Clients must not build it; anything that is not one we issued is a 422 at ["query","cursor"].
 */
import { RequestValidationError } from '../../errors.js';
import { MAX_CURSOR_LENGTH } from '../../limits.js';

// Checked before anything else reads the cursor; longer text is "invalid cursor" like any other we did not issue.
const CURSOR_SHAPE = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_CURSOR_LENGTH}}$`);

export function encodeCursor(lastId: number): string {
  return Buffer.from(String(lastId), 'utf8').toString('base64url');
}

/** The id to continue below; a cursor we did not issue (bad base64url, not a positive id) is refused. */
export function decodeCursor(cursor: string): number {
  const text = CURSOR_SHAPE.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const id = /^[1-9]\d{0,15}$/.test(text) ? Number(text) : NaN;
  // Re-encoding must give the same text, so each id has exactly one cursor.
  if (!Number.isSafeInteger(id) || encodeCursor(id) !== cursor) {
    throw new RequestValidationError([{ loc: ['query', 'cursor'], msg: 'invalid cursor', type: 'value_error.cursor' }]);
  }
  return id;
}
