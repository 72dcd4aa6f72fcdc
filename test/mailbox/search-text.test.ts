/**
 * The words search sees (src/modules/mailbox/search-text.ts): ASCII text takes a shorter path (no
 * Unicode normalisation), which must find exactly the words the general rule finds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { indexedWords, MAX_WORD_LENGTH, searchTerms } from '../../src/modules/mailbox/search-text.js';

/** The general rule, written out: lower case, accents taken apart and dropped, lower case again, runs of letters and digits, cut, distinct. */
function referenceWords(text: string): string[] {
  const words = text.toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.map((word) => Array.from(word).slice(0, MAX_WORD_LENGTH).join('')))];
}

test('ASCII text gives the words of the general rule: every pair of ASCII characters, around letters and digits', () => {
  for (let first = 0; first < 128; first += 1) {
    for (let second = 0; second < 128; second += 1) {
      const text = `Ab${String.fromCharCode(first)}9z${String.fromCharCode(second)}Q`;
      assert.deepEqual(indexedWords(text, ''), referenceWords(text), JSON.stringify(text));
    }
  }
});

test('random ASCII texts, long words included, and their queries, give the words of the general rule', () => {
  let seed = 17;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 2000; round += 1) {
    const length = Math.floor(random() * (round % 10 === 0 ? 400 : 80));
    // Mostly letters and digits, so that words form (some longer than MAX_WORD_LENGTH).
    const text = Array.from({ length }, () => String.fromCharCode(random() < 0.85 ? 97 + Math.floor(random() * 26) - (random() < 0.3 ? 32 : 0) : Math.floor(random() * 128))).join('');
    assert.deepEqual(indexedWords(text, text.slice(0, 20)), referenceWords(`${text} ${text.slice(0, 20)}`), JSON.stringify(text));
    const words = referenceWords(text);
    const terms = searchTerms(text);
    if (words.length === 0) assert.equal(terms, undefined);
    else assert.equal(terms?.prefix, (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).map((word) => word.slice(0, MAX_WORD_LENGTH)).at(-1));
  }
});

test('a text with anything beyond ASCII still takes the general rule: accents, other scripts, digits of other scripts, letters that come apart into capitals', () => {
  for (const text of ['Café Olé', 'CAFÉ', 'cafe\u0301', 'İstanbul', 'Straße', 'ｆｕｌｌｗｉｄｔｈ ４２', '١٢٣ arabic digits', 'naïve coöperation', 'emoji 👋 between', 'Ǆemal', '\u{1D407}\u{1D41E}\u{1D425}\u{1D425}\u{1D428} \u211Dome \u{1D6A8}']) {
    assert.deepEqual(indexedWords(text, ''), referenceWords(text), text);
  }
});
