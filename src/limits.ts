/**
 * Every documented bound on what one request may send or one answer may hold, in one place.
 * Lengths are in characters (JavaScript string length); the README's Security section lists them.
 */

export const MAX_EMAIL_LENGTH = 254;
/** sign-up and sign-in; the minimum is configurable (PASSWORD_MIN_LENGTH) */
export const MAX_PASSWORD_LENGTH = 256;

/**
 * Text fields. A maximal message fits the request body limit (1 MiB) even when every character is
 * sent as a 6-byte `\uXXXX` escape (50,500 × 6 ≈ 300 KB), and is longer than nearly any real mail.
 */
export const MAX_SUBJECT_LENGTH = 500;
export const MAX_MESSAGE_LENGTH = 50_000;
export const MAX_ITEM_TITLE_LENGTH = 500;
export const MAX_ITEM_DESCRIPTION_LENGTH = 5_000;
/** the mailbox's opaque paging cursor (base64url of an id: 22 characters at most) */
export const MAX_CURSOR_LENGTH = 24;
/** a mailbox search (`q`): about 100 words at most */
export const MAX_SEARCH_LENGTH = 200;
/** messages in one answer of GET /users/{id}/threads/{thread_id} (the oldest; longer conversations are marked truncated) */
export const MAX_THREAD_MESSAGES = 1000;

/** Items one user may own, so that one user (who carries their items) has a bounded size: about 3.3 MB of JSON at worst. */
export const MAX_ITEMS_PER_USER = 100;

/**
 * No list answer is larger than this many bytes of JSON. Pages are cut by size (see db/page-budget.ts):
 * a page holds the rows that fit, at least one, so a client pages on with `skip += rows returned`.
 */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;
/**
 * BODY_LIMIT_BYTES may not exceed the answer cap: the contract echoes a bad flag back as sent
 * (`Invalid option: <value>`), and such an answer is no larger than the body that carried it.
 */
export const MAX_BODY_LIMIT_BYTES = MAX_ANSWER_BYTES;
/** List queries read this many rows at a time; a page never materialises more than one chunk beyond what it answers. */
export const PAGE_CHUNK_ROWS = 100;

/** A 422 lists at most this many problems per part of the request (path, query, body): the first ones found. */
export const MAX_VALIDATION_ISSUES = 100;
