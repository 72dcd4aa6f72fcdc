import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser } from '../helpers/factories.js';

// Found by the malformed-input sweep: PostgreSQL text cannot hold NUL, so it answered 500 there.
test('a NUL character in a text field is a 422 on every database, and nothing is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const sender = await createUser(app);

  const response = await app.inject({
    method: 'POST',
    url: '/msg/create/',
    payload: { from_userid: sender.id, to_userid: sender.id, subject: 'a\u0000b', message: 'ok' },
  });

  assert.equal(response.statusCode, 422);
  assert.deepEqual(response.json(), {
    detail: [{ loc: ['body', 'subject'], msg: 'string contains a NUL character', type: 'value_error.str.nul' }],
  });
  assert.equal((await app.db.selectFrom('messages').select('id').execute()).length, 0);
});
