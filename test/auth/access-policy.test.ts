/** Every route says who may call it: a route that declares nothing stops the start, in every AUTH_MODE. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { authEnv } from './auth-support.js';

for (const mode of ['off', 'required'] as const) {
  test(`a route without config.access or config.public stops the start, naming it (AUTH_MODE=${mode})`, async (t) => {
    const app = await buildApp(loadConfig({ DATABASE_URL: 'sqlite::memory:', REDIS_URL: '', LOG_LEVEL: 'silent', ...authEnv(mode) }));
    t.after(() => app.close());
    app.get('/forgotten', async () => ({ secret: true }));
    app.post('/declared', { config: { access: 'caller' } }, async () => ({ ok: true }));
    await assert.rejects(async () => { await app.ready(); }, /routes without an access policy \(config\.access or config\.public\): GET \/forgotten, HEAD \/forgotten$/);
  });
}
