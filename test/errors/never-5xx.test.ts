/**
 * A sweep of malformed requests: whatever comes in, the answer is a client error in FastAPI's
 * `{"detail": …}` shape, never a 5xx, and the app keeps answering afterwards.
 * (Invalid percent-escapes in the path are covered in routing.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HTTPMethods } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser, sendMessage } from '../helpers/factories.js';

interface Probe {
  method: HTTPMethods;
  url: string;
  contentType?: string;
  payload?: string | Buffer;
}

const json = 'application/json';
const deepArray = `${'['.repeat(5000)}${']'.repeat(5000)}`;
const deepObject = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;

const probes: Probe[] = [
  // bodies
  { method: 'POST', url: '/users/', contentType: json, payload: deepArray },
  { method: 'POST', url: '/users/', contentType: json, payload: deepObject },
  { method: 'PUT', url: '/msg/list/', contentType: json, payload: `{"message_id_list":${deepArray}}` },
  { method: 'PUT', url: '/msg/list/', contentType: json, payload: `{"message_id_list":[${deepArray}]}` },
  { method: 'PUT', url: '/msg/list/', contentType: json, payload: `{"message_id_list":[1],"read":${deepObject}}` },
  { method: 'POST', url: '/users/', contentType: json, payload: '{"__proto__":{"email":"x@y.z","password":"p"}}' },
  { method: 'POST', url: '/users/', contentType: json, payload: '{"constructor":{"prototype":{"email":"x@y.z"}},"password":"p"}' },
  { method: 'POST', url: '/users/', contentType: json, payload: '{"email":"nul\\u0000@example.com","password":"p\\u0000"}' },
  { method: 'POST', url: '/users/', contentType: json, payload: '{"email":"\\ud800@example.com","password":"lone surrogate"}' },
  { method: 'POST', url: '/users/', contentType: json, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]) },
  { method: 'POST', url: '/users/', contentType: json, payload: '\uFEFF{"email":"bom@example.com","password":"p"}' },
  { method: 'POST', url: '/users/', contentType: json, payload: '{"email":"dup@example.com","email":"dup2@example.com","password":"p"}' },
  { method: 'POST', url: '/users/', contentType: json, payload: `{"email":"a@b.c","password":"${'p'.repeat(100_000)}"}` },
  { method: 'POST', url: '/users/', contentType: json, payload: '{"email":1e400,"password":-0}' },
  { method: 'POST', url: '/users/', contentType: json, payload: '{"email":NaN,"password":Infinity}' },
  { method: 'POST', url: '/msg/create/', contentType: json, payload: '{"from_userid":-0,"to_userid":-9007199254740991,"subject":1e400,"message":-1e400}' },
  { method: 'POST', url: '/msg/create/', contentType: json, payload: '{"from_userid":"","to_userid":" ","subject":"","message":""}' },
  { method: 'POST', url: '/msg/create/', contentType: json, payload: '{"from_userid":true,"to_userid":false,"subject":true,"message":false}' },
  { method: 'POST', url: '/msg/create/', contentType: json, payload: '{"from_userid":"0x1","to_userid":"1e2","subject":"s","message":"m"}' },
  { method: 'PUT', url: '/msg/list/', contentType: json, payload: '{"message_id_list":[-9007199254740991, 0, -0, "-5", " 3 "]}' },
  { method: 'PUT', url: '/msg/list/', contentType: json, payload: '{"message_id_list":[1],"read":"","trash":" true ","spam":"TRUE"}' },
  { method: 'PUT', url: '/msg/list/', contentType: json, payload: '{"message_id_list":[1],"read":1e400}' },
  { method: 'PUT', url: '/msg/list/', contentType: json, payload: `{"message_id_list":[1],"read":"${'x'.repeat(50_000)}"}` },
  { method: 'PUT', url: '/msg/list/', contentType: json, payload: `{"message_id_list":[${Array.from({ length: 5000 }, (_, i) => i).join(',')}]}` },
  { method: 'PUT', url: '/msg/list/', contentType: json, payload: `{"message_id_list":[${Array.from({ length: 5000 }, () => '"x"').join(',')}]}` },
  { method: 'PUT', url: '/msg/list/', contentType: 'application/json; charset=utf-16', payload: '{"message_id_list":[1]}' },
  { method: 'PUT', url: '/msg/list/', contentType: 'application/octet-stream', payload: Buffer.from([0, 1, 2, 3, 255]) },
  { method: 'PUT', url: '/msg/list/', contentType: 'multipart/form-data', payload: '--x--' },
  { method: 'PUT', url: '/msg/list/', contentType: 'text/plain; charset=nope', payload: 'hello' },
  { method: 'POST', url: '/users/1/items/', contentType: json, payload: '{"title":"t","description":{"nested":[1,2,{"a":null}]}}' },
  // paths and queries
  { method: 'GET', url: '/users/-9007199254740992' },
  { method: 'GET', url: '/users/%00' },
  { method: 'GET', url: '/users/1;DROP TABLE users' },
  { method: 'GET', url: "/users/1'%20OR%20'1'='1" },
  { method: 'GET', url: '/users/?skip=1&skip=2&limit=-0' },
  { method: 'GET', url: '/users/?skip[]=1&limit[a]=2' },
  { method: 'GET', url: '/users/?skip=%00&limit=%FF' },
  { method: 'GET', url: '/users/?skip=Infinity&limit=NaN' },
  { method: 'GET', url: '/users/?skip=0x10&limit=1_000' },
  { method: 'GET', url: `/users/?limit=${'9'.repeat(5000)}` },
  { method: 'GET', url: `/msg/list/?${'a=1&'.repeat(2000)}` },
  { method: 'GET', url: '/items/?limit=+5&skip=%2B1' },
  { method: 'GET', url: '/msg/list/?skip= 1 ' },
  { method: 'GET', url: '/../../etc/passwd' },
  { method: 'GET', url: '/users/../msg/list/' },
  { method: 'OPTIONS', url: '/msg/list/' },
  { method: 'TRACE' as HTTPMethods, url: '/users/' },
];

function describeProbe(probe: Probe): string {
  const payload = probe.payload === undefined ? '' : ` ${String(probe.payload).slice(0, 60)}${String(probe.payload).length > 60 ? '…' : ''}`;
  return `${probe.method} ${probe.url.slice(0, 60)}${probe.contentType ? ` [${probe.contentType}]` : ''}${payload}`;
}

test('no malformed request produces a 5xx, and every error answer is a JSON {"detail": …}', async (t) => {
  const { app } = await buildTestApp(t);
  const user = await createUser(app, 'owner@example.com');
  const message = await sendMessage(app, user.id, user.id);
  const failures: string[] = [];
  for (const probe of probes) {
    const response = await app.inject({
      method: probe.method,
      url: probe.url,
      ...(probe.contentType ? { headers: { 'content-type': probe.contentType } } : {}),
      ...(probe.payload === undefined ? {} : { payload: probe.payload }),
    });
    if (response.statusCode >= 500) failures.push(`${describeProbe(probe)} → ${response.statusCode} ${response.body.slice(0, 200)}`);
    else if (response.statusCode >= 400) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(response.body);
      } catch {
        parsed = undefined;
      }
      const keys = parsed && typeof parsed === 'object' ? Object.keys(parsed) : [];
      if (keys.length !== 1 || keys[0] !== 'detail') {
        failures.push(`${describeProbe(probe)} → ${response.statusCode} not in FastAPI's shape: ${response.body.slice(0, 200)}`);
      }
    }
  }
  assert.deepEqual(failures, []);

  // Still healthy, and the data is untouched by all of the above except what a valid request may do.
  const health = await app.inject({ method: 'GET', url: `/users/${user.id}` });
  assert.equal(health.statusCode, 200);
  const stored = await app.db.selectFrom('messages').selectAll().where('id', '=', message.id).executeTakeFirstOrThrow();
  assert.equal(stored.id, message.id);
});

test('the same malformed requests sent all at once produce no 5xx', async (t) => {
  const { app } = await buildTestApp(t);
  await createUser(app);
  const responses = await Promise.all(
    probes.map((probe) =>
      app.inject({
        method: probe.method,
        url: probe.url,
        ...(probe.contentType ? { headers: { 'content-type': probe.contentType } } : {}),
        ...(probe.payload === undefined ? {} : { payload: probe.payload }),
      }),
    ),
  );
  const serverErrors = responses
    .map((response, index) => ({ response, probe: probes[index] as Probe }))
    .filter(({ response }) => response.statusCode >= 500)
    .map(({ response, probe }) => `${describeProbe(probe)} → ${response.statusCode}`);
  assert.deepEqual(serverErrors, []);
});
