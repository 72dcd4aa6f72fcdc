/**
 * List pages cut by the size of their answer, not only by rows: JSON escaping can make one stored
 * character six bytes (`\u0001`), so a page of `limit` rows could otherwise grow without bound.
 * Repositories read rows in chunks and stop before the answer would pass MAX_ANSWER_BYTES.
 */
import { MAX_ANSWER_BYTES, PAGE_CHUNK_ROWS } from '../limits.js';

/** Room kept for what wraps the rows: `[` `]`, or the mailbox's `{"messages":[…],"next_cursor":"…"}`. */
const ENVELOPE_BYTES = 256;

/** What the rows of one answer may take, in bytes of JSON. */
export const PAGE_BUDGET_BYTES = MAX_ANSWER_BYTES - ENVELOPE_BYTES;

/** Characters JSON escapes: controls, `"`, `\`, and surrogates (a lone one is written `\uXXXX`). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const ESCAPED = /[\u0000-\u001f"\\\ud800-\udfff]/;
/** What escaping adds to an ASCII character's one byte: \b \t \n \f \r `"` `\` become two bytes (+1), other controls six (+5, `\u0001`). */
const ASCII_ESCAPE_BYTES = new Uint8Array(0x80);
for (let code = 0; code < 0x20; code += 1) ASCII_ESCAPE_BYTES[code] = 5;
for (const code of [0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x22, 0x5c]) ASCII_ESCAPE_BYTES[code] = 1;

/** What escaping adds to a string's UTF-8 length (which counts a lone surrogate as the 3 bytes of U+FFFD). */
function escapeBytes(text: string): number {
  let extra = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x80) extra += ASCII_ESCAPE_BYTES[code] ?? 0;
    else if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(index + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) index += 1;
      else extra += 3;
    }
  }
  return extra;
}

/**
 * Bytes of JSON a string (or null) takes in an answer, quotes and escapes included: exactly what
 * JSON.stringify (and so the serializer) writes, without building the escaped copy.
 */
export function jsonBytes(text: string | null): number {
  if (text === null) return 4;
  const utf8 = Buffer.byteLength(text, 'utf8') + 2;
  return ESCAPED.test(text) ? utf8 + escapeBytes(text) : utf8;
}

export interface SizedPage<Row> {
  rows: Row[];
  /** true when the page stopped because the next row would not fit: more rows follow */
  truncated: boolean;
  /** what the rows take in the answer, in bytes of JSON (an upper bound) */
  bytes: number;
}

export interface PageReader<Row> {
  /** rows wanted; the page may hold fewer when they do not fit */
  limit: number;
  /** the next `count` rows in page order: the first ones when `after` is undefined, else those following `after` */
  readChunk: (count: number, after: Row | undefined) => Promise<Row[]>;
  /** bytes the row takes in the answer, separator included; an upper bound is enough */
  sizeOf: (row: Row) => number;
}

/**
 * Reads up to `limit` rows in chunks of PAGE_CHUNK_ROWS, stopping before the next row would pass the
 * budget (the first row is always taken, so paging always moves on). A page of up to one chunk is
 * one query; at most one chunk is ever read beyond what the page answers.
 */
export async function readPageBySize<Row>(reader: PageReader<Row>, budgetBytes = PAGE_BUDGET_BYTES): Promise<SizedPage<Row>> {
  const rows: Row[] = [];
  let used = 0;
  let after: Row | undefined;
  // Each pass adds a full chunk or ends the page, so there are at most ceil(limit / chunk) queries.
  while (rows.length < reader.limit) {
    const count = Math.min(PAGE_CHUNK_ROWS, reader.limit - rows.length);
    const chunk = await reader.readChunk(count, after);
    for (const row of chunk) {
      const size = reader.sizeOf(row);
      if (rows.length > 0 && used + size > budgetBytes) return { rows, truncated: true, bytes: used };
      used += size;
      rows.push(row);
    }
    if (chunk.length < count || rows.length >= reader.limit) break;
    after = chunk.at(-1);
    // Let other requests' I/O in between chunks: SQLite reads are synchronous, and a large page must not stall the rest.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { rows, truncated: false, bytes: used };
}

/** Answers of at least this many bytes take turns to be serialized and written (largeAnswerTurn). */
export const LARGE_ANSWER_BYTES = 1024 * 1024;

const waitingTurns: Array<() => void> = [];

function giveNextTurn(): void {
  waitingTurns.shift()?.();
  // Scheduled from the check phase, the next turn comes in the next loop iteration, after pending I/O.
  if (waitingTurns.length > 0) setImmediate(giveNextTurn);
}

/**
 * Awaited by a route just before it returns a page: a large page waits for a turn of its own, so
 * the large answers that are ready together are serialized one per event-loop iteration, with
 * other requests (a health check) answered in between, instead of back to back in one block.
 * Serialization and writing follow the route's return in the same microtask run, so a turn covers
 * them. Small pages pass at once (undefined).
 */
export function largeAnswerTurn(page: { bytes: number }): Promise<void> | undefined {
  if (page.bytes < LARGE_ANSWER_BYTES) return undefined;
  return new Promise((resolve) => {
    waitingTurns.push(resolve);
    if (waitingTurns.length === 1) setImmediate(giveNextTurn);
  });
}
