import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
}

const CONTRACT_OPERATIONS: [string, string][] = [
  ['/', 'get'],
  ['/users/', 'post'],
  ['/users/', 'get'],
  ['/users/{user_id}', 'get'],
  ['/users/{user_id}/items/', 'post'],
  ['/items/', 'get'],
  ['/msg/create/', 'post'],
  ['/msg/list/', 'get'],
  ['/msg/list/', 'put'],
];

/** GET a URL, following up to five redirects the way a browser would. */
async function getFollowingRedirects(app: FastifyInstance, url: string) {
  let current = url;
  for (let hop = 0; hop < 5; hop += 1) {
    const response = await app.inject({ method: 'GET', url: current });
    if (response.statusCode < 300 || response.statusCode >= 400) return { response, url: current };
    const location = response.headers.location;
    assert.ok(typeof location === 'string', `redirect ${response.statusCode} from ${current} without a location`);
    current = new URL(location, `http://localhost${current}`).pathname;
  }
  assert.fail(`too many redirects from ${url}`);
}

test('GET /openapi.json answers a JSON OpenAPI document with every contract path and method', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  const document = response.json<OpenApiDocument>();
  assert.match(document.openapi, /^3\./);
  const missing = CONTRACT_OPERATIONS.filter(([path, method]) => document.paths[path]?.[method] === undefined).map(
    ([path, method]) => `${method.toUpperCase()} ${path}`,
  );
  assert.deepEqual(missing, []);
});

test('the OpenAPI document never mentions the stored password hash', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(response.statusCode, 200);
  assert.ok(!response.body.includes('hashed_password'));
});

test('GET /docs leads to an HTML documentation page', async (t) => {
  const { app } = await buildTestApp(t);
  const { response, url } = await getFollowingRedirects(app, '/docs');
  assert.equal(response.statusCode, 200, `GET ${url}`);
  assert.match(String(response.headers['content-type']), /^text\/html/);
  assert.match(response.body, /<html/i);
  assert.match(response.body, /swagger|redoc|openapi/i);
});

test('GET /docs/ also answers the HTML documentation page', async (t) => {
  const { app } = await buildTestApp(t);
  const { response } = await getFollowingRedirects(app, '/docs/');
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /^text\/html/);
  assert.match(response.body, /<html/i);
});
