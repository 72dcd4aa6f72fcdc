import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { createUser } from '../helpers/factories.js';
import { testDatabaseUrl } from '../helpers/services.js';

const onPostgres = testDatabaseUrl() !== undefined;

// Regression: Kysely looked for its migration tables in every schema; with another schema already
// migrated in the same database, it skipped creating its own and the start failed.
test('an instance migrates its own schema while another schema of the database is already migrated', { skip: onPostgres ? false : 'PostgreSQL only' }, async (t) => {
  const first = await startTestApp(t, await createTestStorage(t));
  const second = await startTestApp(t, await createTestStorage(t));

  const [a, b] = [await createUser(first), await createUser(second)];

  assert.equal(a.id, 1);
  assert.equal(b.id, 1, 'each schema has its own tables and ids');
});
