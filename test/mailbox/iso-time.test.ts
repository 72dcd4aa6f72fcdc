/** isoTime writes exactly what Date's toISOString writes, for any time a message can hold and past them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isoTime } from '../../src/modules/mailbox/mailbox-view.js';

const DAY = 86_400_000;
const MAX_DATE = 8.64e15;
const builtIn = (ms: number) => new Date(ms).toISOString();

test('each millisecond edge of a day, before 1970 and after, in years of 4 and 6 digits, as toISOString', () => {
  for (const day of [-719_529, -1, 0, 1, 10_957, 20_784, 2_932_896, 2_932_897, 100_000_000 - 1]) {
    for (const offset of [0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, DAY - 1001, DAY - 1]) {
      const ms = day * DAY + offset;
      assert.equal(isoTime(ms), builtIn(ms), String(ms));
    }
  }
  assert.equal(isoTime(MAX_DATE), builtIn(MAX_DATE));
  assert.equal(isoTime(-MAX_DATE), builtIn(-MAX_DATE));
});

test('any time in Date’s range, whole or not, and in any order (the day it keeps changes), as toISOString', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer({ min: -MAX_DATE, max: MAX_DATE }), fc.double({ min: -MAX_DATE, max: MAX_DATE, noNaN: true })), { maxLength: 20 }), (times) => {
      for (const ms of times) assert.equal(isoTime(ms), builtIn(ms), String(ms));
    }),
    { numRuns: 3000 },
  );
});

test('a time out of Date’s range throws as toISOString does', () => {
  for (const ms of [MAX_DATE + 1, -MAX_DATE - 1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => isoTime(ms), RangeError);
  }
});
