/**
 * How the web inbox is served: text files compressed (brotli or gzip, as the browser accepts),
 * revalidated against their ETag so that a new release is never mixed with a cached old one, and
 * GET /auth/config, the few bytes the page reads to know how to sign in.
 */
import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTestApp } from '../helpers/build-test-app.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

before(() => {
  // The page's scripts, compiled exactly as `npm run build` does.
  execFileSync(process.execPath, [join(projectRoot, 'node_modules', 'typescript-7', 'bin', 'tsc'), '-p', 'web'], { cwd: projectRoot, stdio: 'inherit' });
});

test('the page, its script and its styles come compressed as the browser asks, and decompress to the same bytes', async (t) => {
  const { app } = await buildTestApp(t);
  for (const path of ['/inbox/', '/inbox/main.js', '/inbox/styles.css']) {
    const plain = await app.inject({ method: 'GET', url: path });
    assert.equal(plain.statusCode, 200, path);
    assert.equal(plain.headers['content-encoding'], undefined, `${path}: nothing asked, nothing compressed`);
    const brotli = await app.inject({ method: 'GET', url: path, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(brotli.headers['content-encoding'], 'br', path);
    assert.equal(brotliDecompressSync(brotli.rawPayload).toString('utf8'), plain.body, path);
    assert.ok(brotli.rawPayload.length < plain.rawPayload.length / 2, `${path}: ${brotli.rawPayload.length} of ${plain.rawPayload.length} bytes`);
    const gzip = await app.inject({ method: 'GET', url: path, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gzip.headers['content-encoding'], 'gzip', path);
    assert.equal(gunzipSync(gzip.rawPayload).toString('utf8'), plain.body, path);
    assert.match(String(brotli.headers.vary), /accept-encoding/i, path);
  }
});

test('every file is revalidated (no-cache) against its ETag: unchanged, a 304 without a body', async (t) => {
  const { app } = await buildTestApp(t);
  for (const path of ['/inbox/main.js', '/inbox/styles.css', '/inbox/']) {
    const first = await app.inject({ method: 'GET', url: path });
    assert.equal(first.headers['cache-control'], 'no-cache', path);
    const etag = String(first.headers.etag ?? '');
    assert.ok(etag.length > 0, `${path} has an ETag`);
    const again = await app.inject({ method: 'GET', url: path, headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304, path);
    assert.equal(again.body, '', path);
    const other = await app.inject({ method: 'GET', url: path, headers: { 'if-none-match': 'W/"0-0"' } });
    assert.equal(other.statusCode, 200, `${path}: another release's ETag gets the file`);
  }
});

test('API answers are not compressed: the cost is not worth it for small JSON', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'GET', url: '/users/', headers: { 'accept-encoding': 'br, gzip' } });
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['content-encoding'], undefined);
});

for (const [mode, expected] of [
  ['off', { auth_mode: 'off', sign_up: true, password_min_length: 12, token_ttl_seconds: null }],
  ['optional', { auth_mode: 'optional', sign_up: true, password_min_length: 12, token_ttl_seconds: 900 }],
  ['required', { auth_mode: 'required', sign_up: true, password_min_length: 12, token_ttl_seconds: 900 }],
] as const) {
  test(`GET /auth/config with AUTH_MODE=${mode}: the mode, sign-up, the password minimum and the token lifetime, without a token`, async (t) => {
    const { app } = await buildTestApp(t, { AUTH_MODE: mode, AUTH_SECRET: 'client-config-test-secret-0123456789abcdef', AUTH_TOKEN_TTL_SECONDS: '900', PASSWORD_MIN_LENGTH: '12' });
    const response = await app.inject({ method: 'GET', url: '/auth/config' });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), expected);
    assert.equal(response.headers['cache-control'], 'public, max-age=60');
    assert.ok(response.body.length < 120, 'a few bytes, not the OpenAPI document');
  });
}
