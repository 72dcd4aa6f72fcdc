/**
 * Property: whatever a client sends, to whichever path, the answer is a 2xx or a 4xx in the
 * contract's error shape; never a 5xx, never a hang. A fixed seed and a few thousand cases run in
 * `npm test`; `npm run fuzz` runs many more with a random seed (FUZZ_RUNS, FUZZ_SEED).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser, sendMessages } from '../helpers/factories.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const SEED = process.env.FUZZ_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED ?? 20261126);

const ROUTES = [
  { method: 'GET', path: '/' },
  { method: 'POST', path: '/users/' },
  { method: 'GET', path: '/users/' },
  { method: 'GET', path: '/users/{id}' },
  { method: 'POST', path: '/users/{id}/items/' },
  { method: 'GET', path: '/items/' },
  { method: 'POST', path: '/msg/create/' },
  { method: 'GET', path: '/msg/list/' },
  { method: 'PUT', path: '/msg/list/' },
  { method: 'GET', path: '/users/{id}/messages' },
  { method: 'POST', path: '/users/{id}/messages' },
  { method: 'GET', path: '/users/{id}/messages/{id}' },
  { method: 'GET', path: '/users/{id}/threads/{id}' },
  { method: 'GET', path: '/users/{id}/folders' },
  { method: 'GET', path: '/users/{id}/spam-reports' },
  { method: 'GET', path: '/spam/senders' },
  { method: 'POST', path: '/token' },
  { method: 'DELETE', path: '/msg/list/' },
  { method: 'GET', path: '/{word}' },
] as const;

/** Numbers a careless or hostile client sends: ids that exist, negatives, fractions, huge, non-finite as text. */
const number = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(2 ** 31, 2 ** 53, -(2 ** 53), 1e308, 0.5, -0),
  fc.bigInt().map((big) => Number(big)),
);

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('', 'true', 'false', 'null', '7', '1.5', 'a@b.c', '\u0000', '%ZZ', '../../etc/passwd', '😀'.repeat(50)),
);

const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    number,
    text,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 12 }),
    fc.dictionary(fc.oneof(text, fc.constantFrom('email', 'password', 'message_id_list', 'read', 'trash', 'spam', '__proto__')), tie('value'), {
      maxKeys: 6,
    }),
  ),
})).value;

/** Bodies close to valid ones, so the fuzz reaches past the first check. */
const nearlyValidBody = fc.record(
  {
    email: fc.oneof(text, fc.emailAddress(), jsonValue),
    password: fc.oneof(text, jsonValue),
    username: text,
    title: fc.oneof(text, jsonValue),
    description: fc.oneof(text, fc.constant(null), jsonValue),
    from_userid: fc.oneof(number, text, jsonValue),
    to_userid: fc.oneof(number, text, jsonValue),
    to_email: fc.oneof(text, fc.emailAddress(), jsonValue),
    in_reply_to: fc.oneof(number, text, jsonValue),
    subject: fc.oneof(text, jsonValue),
    message: fc.oneof(text, jsonValue),
    message_id_list: fc.oneof(fc.array(fc.oneof(number, text), { maxLength: 14 }), jsonValue),
    read: fc.oneof(fc.constantFrom('true', 'false', true, false, null), jsonValue),
    trash: fc.oneof(fc.constantFrom('true', 'false', true, false, null), jsonValue),
    spam: fc.oneof(fc.constantFrom('true', 'false', true, false, null), jsonValue),
  },
  { requiredKeys: [] },
);

const rawBody = fc.oneof(
  jsonValue.map((value) => JSON.stringify(value) ?? 'undefined'),
  nearlyValidBody.map((value) => JSON.stringify(value)),
  nearlyValidBody.map((value) => JSON.stringify(value).slice(0, -1)), // truncated
  fc.string(),
  fc.constantFrom('', '{', '[', '{"a":', 'null', '1e999', '{"message_id_list":[1,2,3],"read":"true"}', '['.repeat(5000)),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'garbage',
  undefined,
);

const pathSegment = fc.oneof(number.map(String), text.map(encodeURIComponent), fc.constantFrom('%ZZ', '%E2%82', '..', '1e3', ' 7 ', '0x10'));

const queryString = fc
  .dictionary(
    fc.constantFrom('skip', 'limit', 'folder', 'unread', 'cursor', 'q', 'x'),
    fc.oneof(number.map(String), text, fc.constantFrom('sent', 'inbox', 'lun', '"a" OR b*', 'NEAR(a b)', "'x':*")),
    { maxKeys: 4 },
  )
  .map((query) => new URLSearchParams(query as Record<string, string>).toString());

const request = fc.record({
  route: fc.constantFrom(...ROUTES),
  id: pathSegment,
  query: queryString,
  body: rawBody,
  contentType,
});

function checkAnswer(statusCode: number, body: string, described: string) {
  assert.ok(statusCode < 500, `${described} → ${statusCode} ${body}`);
  if (statusCode < 400) return;
  const parsed = JSON.parse(body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ['detail'], `${described} → ${body}`);
  if (Array.isArray(parsed.detail)) {
    for (const issue of parsed.detail as Record<string, unknown>[]) {
      assert.ok(Array.isArray(issue.loc) && typeof issue.msg === 'string' && typeof issue.type === 'string', `${described} → ${body}`);
    }
  } else {
    assert.equal(typeof parsed.detail, 'string', `${described} → ${body}`);
  }
}

async function fuzz(app: FastifyInstance, runs: number) {
  await fc.assert(
    fc.asyncProperty(request, async ({ route, id, query, body, contentType: type }) => {
      const url = route.path.replaceAll('{id}', id).replace('{word}', id) + (query ? `?${query}` : '');
      const hasBody = route.method !== 'GET';
      const response = await app.inject({
        method: route.method,
        url,
        ...(hasBody ? { payload: body } : {}),
        headers: type ? { 'content-type': type } : {},
      });
      checkAnswer(response.statusCode, response.body, `${route.method} ${url} [${type ?? 'no type'}] ${body.slice(0, 200)}`);
    }),
    { numRuns: runs, seed: SEED, endOnFailure: true },
  );
}

for (const authMode of ['off', 'optional'] as const) {
  test(`every endpoint answers malformed input with a 2xx or a contract-shaped 4xx (AUTH_MODE=${authMode}, seed ${SEED})`, async (t) => {
    const { app } = await buildTestApp(t, {
      AUTH_MODE: authMode,
      ...(authMode === 'off' ? {} : { AUTH_SECRET: 'fuzz-secret-that-is-long-enough-0123456789' }),
      BODY_LIMIT_BYTES: '65536',
      RATE_LIMIT_SIGNUP_PER_MINUTE: '0',
      RATE_LIMIT_MESSAGES_PER_MINUTE: '0',
    });
    // A few real rows, so ids 1..12 sometimes exist and updates reach the database.
    const [alice, bob] = [await createUser(app), await createUser(app)];
    await sendMessages(app, alice.id, bob.id, 6);
    await sendMessages(app, bob.id, alice.id, 6);

    const rssBefore = process.memoryUsage().rss;
    await fuzz(app, authMode === 'off' ? RUNS : Math.ceil(RUNS / 3));
    const grownMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    assert.ok(grownMb < 200, `memory grew by ${grownMb.toFixed(0)} MB over the fuzz run`);
  });
}

// Regression cases the fuzzing found or that once crashed a FastAPI-style service.
test('named regressions: NUL in text, deep nesting, a huge exponent and an undecodable path all answer 4xx', async (t) => {
  const { app } = await buildTestApp(t);
  const cases = [
    { method: 'POST', url: '/users/', payload: '{"email":"nul\\u0000@example.com","password":"p"}' },
    { method: 'PUT', url: '/msg/list/', payload: '['.repeat(5000) + ']'.repeat(5000) },
    { method: 'PUT', url: '/msg/list/', payload: '{"message_id_list":[1e999]}' },
    { method: 'GET', url: '/users/%E2%82' },
  ] as const;
  for (const item of cases) {
    const response = await app.inject({ ...item, headers: { 'content-type': 'application/json' } });
    checkAnswer(response.statusCode, response.body, `${item.method} ${item.url}`);
    assert.ok(response.statusCode >= 400);
  }
});
