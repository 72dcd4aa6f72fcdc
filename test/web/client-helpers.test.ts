/** The web inbox's pure helpers: how a selection is split for the batch endpoint, and how API errors read. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunksOf, MAX_IDS_PER_REQUEST } from '../../web/src/batch.js';
import { plainErrorOf } from '../../web/src/errors.js';
import { SQLITE_PASS_ONLY } from '../helpers/services.js';

test('a selection is sent in requests of at most 10 ids, in order', { skip: SQLITE_PASS_ONLY }, () => {
  assert.equal(MAX_IDS_PER_REQUEST, 10);
  assert.deepEqual(chunksOf([]), []);
  assert.deepEqual(chunksOf([1, 2, 3]), [[1, 2, 3]]);
  const ids = Array.from({ length: 23 }, (_, index) => index + 1);
  const chunks = chunksOf(ids);
  assert.deepEqual(chunks.map((chunk) => chunk.length), [10, 10, 3]);
  assert.deepEqual(chunks.flat(), ids);
  assert.deepEqual(chunksOf(Array.from({ length: 20 }, (_, index) => index)).map((chunk) => chunk.length), [10, 10]);
  assert.throws(() => chunksOf([1], 0), RangeError);
});

test('API errors read as plain words: the detail string, or the first problem of a 422 list with its field', { skip: SQLITE_PASS_ONLY }, () => {
  assert.equal(plainErrorOf(404, { detail: 'User not found' }), 'User not found');
  assert.equal(
    plainErrorOf(422, {
      detail: [
        { loc: ['body', 'to_userid'], msg: 'Input should be a valid integer', type: 'int_parsing' },
        { loc: ['body', 'subject'], msg: 'Field required', type: 'missing' },
      ],
    }),
    'to_userid: Input should be a valid integer',
  );
  assert.equal(plainErrorOf(422, { detail: [{ loc: ['body'], msg: 'Field required', type: 'missing' }] }), 'Field required');
  assert.equal(plainErrorOf(422, { detail: 'Requested too many messages.' }), 'Requested too many messages.');
  assert.equal(plainErrorOf(429, undefined), 'Too many requests: wait a minute and try again.');
  assert.equal(plainErrorOf(502, '<html>Bad gateway</html>'), 'The server failed (502); try again.');
  assert.equal(plainErrorOf(418, { detail: ['odd'] }), 'The request failed (418).');
});
