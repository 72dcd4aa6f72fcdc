/**
 * What full-text search sees of a text: its words without case or accents. Messages are indexed and
 * queries are read through the same function, so SQLite and PostgreSQL match exactly the same words
 * (neither database's own tokenizer decides anything: both store these words as they are).
 */

/** A word: a run of letters and digits. Everything else (punctuation, quotes, operators, emoji) separates words. */
const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}/gu;
const ASCII_WORD = /[a-z0-9]+/g;
// eslint-disable-next-line no-control-regex -- any character outside ASCII, controls included in the range's complement
const NOT_ASCII = /[^\u0000-\u007f]/;
/** Longer words are cut, alike in messages and queries (PostgreSQL refuses lexemes over 2 KiB). */
export const MAX_WORD_LENGTH = 100;

function clip(word: string): string {
  // By code point, so a cut never splits a surrogate pair.
  return word.length <= MAX_WORD_LENGTH ? word : Array.from(word).slice(0, MAX_WORD_LENGTH).join('');
}

/**
 * The words of a text in order: lower case first (İ → i̇), then accents taken apart (NFKD) and dropped,
 * then lower case again: a compatibility character with no lower case of its own can come apart into a
 * capital (ℌ and 𝐇 into H, 𝚨 into Α), which neither database's index would fold alike (PostgreSQL folds
 * nothing, FTS5's tokenizer only ASCII).
 */
function wordsOf(text: string): string[] {
  const lower = text.toLowerCase();
  // ASCII has no accents to take apart, and its letters and digits are [a-z0-9] once lowered: the same words, without ICU.
  if (!NOT_ASCII.test(lower)) return (lower.match(ASCII_WORD) ?? []).map(clip);
  const folded = lower.normalize('NFKD').replace(MARKS, '').toLowerCase();
  // match, not matchAll: the same words in an array at once, where matchAll's iterator cost three times as much.
  return (folded.match(WORD) ?? []).map(clip);
}

/** The distinct words a message is found by: its subject's and its body's. */
export function indexedWords(subject: string, message: string): string[] {
  return [...new Set([...wordsOf(subject), ...wordsOf(message)])];
}

/** A search: every word must be in the message; the last one may be the start of a word (typing "lun" finds "Lunch"). */
export interface SearchTerms {
  words: string[];
  /** the last word, matched as a prefix */
  prefix: string;
}

/** The terms of a query; undefined when it holds no letter or digit (it then filters nothing). */
export function searchTerms(query: string): SearchTerms | undefined {
  const words = wordsOf(query);
  const prefix = words.pop();
  return prefix === undefined ? undefined : { words: [...new Set(words)], prefix };
}
