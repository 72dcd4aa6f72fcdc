/** Documentation stays public and declares the OAuth2 password flow; security headers; CORS only when configured. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildTestApp } from '../helpers/build-test-app.js';
import { AUTHED_MODES, authEnv } from './auth-support.js';

interface OpenApi {
  components?: { securitySchemes?: Record<string, unknown> };
  paths: Record<string, Record<string, { security?: unknown }>>;
}

for (const mode of AUTHED_MODES) {
  describe(`AUTH_MODE=${mode}: documentation`, () => {
    test('/docs and /openapi.json answer without a token', async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const docs = await app.inject({ method: 'GET', url: '/docs' });
      assert.equal(docs.statusCode, 200);
      assert.match(String(docs.headers['content-type']), /text\/html/);
      for (const url of ['/openapi.json', '/docs/json', '/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-initializer.js']) {
        assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
      }
    });

    test('the OpenAPI document declares the OAuth2 password flow at /token, on every protected operation', async (t) => {
      const { app } = await buildTestApp(t, authEnv(mode));
      const openapi = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApi>();
      assert.deepEqual(openapi.components?.securitySchemes, {
        OAuth2PasswordBearer: { type: 'oauth2', flows: { password: { tokenUrl: '/token', scopes: {} } } },
      });
      const required = mode === 'required' ? [{ OAuth2PasswordBearer: [] }] : [{}, { OAuth2PasswordBearer: [] }];
      assert.deepEqual(openapi.paths['/msg/list/']?.get?.security, required);
      assert.deepEqual(openapi.paths['/msg/create/']?.post?.security, required);
      assert.deepEqual(openapi.paths['/users/{user_id}/items/']?.post?.security, required);
      for (const [path, method] of [['/', 'get'], ['/users/', 'post'], ['/token', 'post']] as const) {
        assert.equal(openapi.paths[path]?.[method]?.security, undefined, `${method} ${path} is public`);
      }
      assert.ok(openapi.paths['/token']?.post, 'POST /token is documented');
    });
  });
}

test('AUTH_MODE=off: the OpenAPI document has no security scheme and no /token', async (t) => {
  const { app } = await buildTestApp(t);
  const openapi = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApi>();
  assert.equal(openapi.components?.securitySchemes, undefined);
  assert.equal(openapi.paths['/token'], undefined);
});

test('security headers on API answers, and a Content-Security-Policy that keeps Swagger UI working', async (t) => {
  const { app } = await buildTestApp(t);
  const api = await app.inject({ method: 'GET', url: '/' });
  assert.equal(api.headers['x-content-type-options'], 'nosniff');
  assert.ok(api.headers['content-security-policy']);
  const docs = await app.inject({ method: 'GET', url: '/docs' });
  const csp = String(docs.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /img-src 'self' data:/);
  assert.match(csp, /connect-src 'self'/);
  assert.doesNotMatch(csp, /upgrade-insecure-requests/);
});

test('CORS is off unless CORS_ORIGINS is set', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'GET', url: '/', headers: { origin: 'https://app.example.com' } });
  assert.equal(response.headers['access-control-allow-origin'], undefined);
});

test('with CORS_ORIGINS, listed origins are allowed, others not, and a preflight needs no token', async (t) => {
  const { app } = await buildTestApp(t, authEnv('required', { CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' }));
  const allowed = await app.inject({ method: 'GET', url: '/', headers: { origin: 'https://app.example.com' } });
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
  const other = await app.inject({ method: 'GET', url: '/', headers: { origin: 'https://evil.example.com' } });
  assert.equal(other.headers['access-control-allow-origin'], undefined);
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/msg/list/',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' },
  });
  assert.equal(preflight.statusCode, 204, preflight.body);
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.match(String(preflight.headers['access-control-allow-methods']), /PUT/);
});
