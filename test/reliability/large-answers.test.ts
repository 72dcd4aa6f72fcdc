/**
 * One client cannot make the service build an answer without bound. Every text field has a maximum
 * length; a user owns at most MAX_ITEMS_PER_USER items; list pages are cut by the size of their
 * JSON, never above MAX_ANSWER_BYTES, even when every character is a control character that JSON
 * escapes to six bytes; paging on (`skip += rows returned`, or `next_cursor`) still reaches every
 * row exactly once; and the largest legal pages asked for in parallel neither stall other requests
 * nor grow the process's memory without bound.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { jsonBytes, LARGE_ANSWER_BYTES, largeAnswerTurn } from '../../src/db/page-by-size.js';
import {
  MAX_ANSWER_BYTES,
  MAX_ITEM_DESCRIPTION_LENGTH,
  MAX_ITEM_TITLE_LENGTH,
  MAX_ITEMS_PER_USER,
  MAX_MESSAGE_LENGTH,
  MAX_SUBJECT_LENGTH,
  MAX_VALIDATION_ISSUES,
} from '../../src/limits.js';
import { validatePart } from '../../src/fastapi/validation.js';
import { buildTestApp } from '../helpers/build-test-app.js';
import { startService } from '../helpers/service-process.js';
import { SQLITE_PASS_ONLY, uniqueName } from '../helpers/services.js';

/** The worst case for JSON: each \u0001 is written as the six bytes `\u0001`. */
const worst = (length: number) => '\u0001'.repeat(length);

const MESSAGES = 60;
const OWNERS_WITH_ITEMS = 3;

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  bytes: number;
  body: string;
}

/** The same requests through inject or over a real socket. */
interface Client {
  get(url: string): Promise<Answer>;
  post(url: string, payload: unknown): Promise<Answer>;
}

function injectClient(app: FastifyInstance): Client {
  const answer = (response: Awaited<ReturnType<FastifyInstance['inject']>>): Answer => ({
    status: response.statusCode,
    headers: Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, value === undefined ? undefined : String(value)])),
    bytes: response.rawPayload.length,
    body: response.body,
  });
  return {
    get: async (url) => answer(await app.inject({ method: 'GET', url })),
    post: async (url, payload) => answer(await app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> })),
  };
}

function httpClient(base: string): Client {
  const answer = async (response: Response): Promise<Answer> => {
    const buffer = Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: Object.fromEntries(response.headers.entries()), bytes: buffer.length, body: buffer.toString('utf8') };
  };
  return {
    get: async (url) => answer(await fetch(`${base}${url}`)),
    post: async (url, payload) =>
      answer(await fetch(`${base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) })),
  };
}

async function postOk<T>(client: Client, url: string, payload: unknown): Promise<T> {
  const response = await client.post(url, payload);
  assert.equal(response.status, 200, response.body.slice(0, 500));
  return JSON.parse(response.body) as T;
}

interface Filled {
  sender: number;
  recipient: number;
  userIds: number[];
  messageIds: number[];
  itemIds: number[];
}

/** Two users without items, a mailbox of maximal worst-case messages, and owners with every item they may have, all maximal. */
async function fill(client: Client): Promise<Filled> {
  const newUser = async () =>
    (await postOk<{ id: number }>(client, '/users/', { email: `${uniqueName('big')}@example.com`, password: 'long enough password' })).id;
  const sender = await newUser();
  const recipient = await newUser();
  const userIds = [sender, recipient];
  const messageIds: number[] = [];
  for (let index = 0; index < MESSAGES; index += 1) {
    const payload = { from_userid: sender, to_userid: recipient, subject: worst(MAX_SUBJECT_LENGTH), message: worst(MAX_MESSAGE_LENGTH) };
    messageIds.push((await postOk<{ id: number }>(client, '/msg/create/', payload)).id);
  }
  const itemIds: number[] = [];
  for (let owner = 0; owner < OWNERS_WITH_ITEMS; owner += 1) {
    const ownerId = await newUser();
    userIds.push(ownerId);
    for (let index = 0; index < MAX_ITEMS_PER_USER; index += 1) {
      const payload = { title: worst(MAX_ITEM_TITLE_LENGTH), description: worst(MAX_ITEM_DESCRIPTION_LENGTH) };
      itemIds.push((await postOk<{ id: number }>(client, `/users/${ownerId}/items/`, payload)).id);
    }
  }
  return { sender, recipient, userIds, messageIds, itemIds };
}

/** The largest legal page of each list, by how the list pages on. */
const OFFSET_LISTS = [
  { url: '/msg/list/', rows: (filled: Filled) => filled.messageIds },
  { url: '/users/', rows: (filled: Filled) => filled.userIds },
  { url: '/items/', rows: (filled: Filled) => filled.itemIds },
] as const;
const largestMailboxPage = (filled: Filled) => `/users/${filled.recipient}/messages?limit=200`;

function assertUnderCap(answer: Answer, url: string) {
  assert.equal(answer.status, 200, `${url}: ${answer.body.slice(0, 300)}`);
  assert.ok(answer.bytes <= MAX_ANSWER_BYTES, `${url} answered ${answer.bytes} bytes, over the cap of ${MAX_ANSWER_BYTES}`);
  assert.equal(Buffer.byteLength(answer.body), answer.bytes);
}

/** Pages an offset list with skip += rows returned; returns the ids seen and the pages' sizes. */
async function pageOffsetList(client: Client, url: string): Promise<{ ids: number[]; pages: Answer[] }> {
  const ids: number[] = [];
  const pages: Answer[] = [];
  let skip = 0;
  // Bounded: every page but the last holds at least one row, and there are a few hundred rows.
  for (let round = 0; round < 50; round += 1) {
    const page = await client.get(`${url}?skip=${skip}&limit=1000`);
    assertUnderCap(page, url);
    const rows = JSON.parse(page.body) as { id: number }[];
    pages.push(page);
    ids.push(...rows.map((row) => row.id));
    skip += rows.length;
    // A page cut by size says so; a short page without the header is the last one.
    if (rows.length < 1000 && page.headers['x-page-truncated'] !== 'true') return { ids, pages };
    assert.ok(rows.length > 0, `${url} answered an empty page marked truncated`);
  }
  throw new Error(`${url}: paging did not end`);
}

async function pageMailbox(client: Client, filled: Filled): Promise<{ ids: number[]; pages: Answer[] }> {
  const ids: number[] = [];
  const pages: Answer[] = [];
  let cursor: string | null = null;
  for (let round = 0; round < 50; round += 1) {
    const url: string = `${largestMailboxPage(filled)}${cursor === null ? '' : `&cursor=${cursor}`}`;
    const page = await client.get(url);
    assertUnderCap(page, url);
    const body = JSON.parse(page.body) as { messages: { id: number }[]; next_cursor: string | null };
    assert.deepEqual(Object.keys(body), ['messages', 'next_cursor', 'state']);
    pages.push(page);
    ids.push(...body.messages.map((message) => message.id));
    cursor = body.next_cursor;
    if (cursor === null) return { ids, pages };
    assert.ok(body.messages.length > 0);
  }
  throw new Error('the mailbox paging did not end');
}

test('every list, at its largest legal page, answers under the cap and paging on reaches every row exactly once', async (t) => {
  const { app } = await buildTestApp(t);
  const client = injectClient(app);
  const filled = await fill(client);
  for (const list of OFFSET_LISTS) {
    const { ids, pages } = await pageOffsetList(client, list.url);
    assert.deepEqual(ids, list.rows(filled), `${list.url}: every row once, in id order`);
    assert.ok(pages.length >= 2, `${list.url} should have been cut by size (${pages.length} page)`);
    // cut by size, not early: each full page uses most of the room
    for (const page of pages.slice(0, -1)) {
      assert.equal(page.headers['x-page-truncated'], 'true');
      assert.ok(page.bytes > MAX_ANSWER_BYTES / 2, `${list.url}: a cut page of only ${page.bytes} bytes`);
    }
    const after = await client.get(`${list.url}?skip=${ids.length}&limit=1000`);
    assert.equal(after.body, '[]');
  }
  // the largest user alone: every item maximal
  assertUnderCap(await client.get(`/users/${filled.userIds.at(-1)}`), '/users/{id}');
  const mailbox = await pageMailbox(client, filled);
  assert.deepEqual(mailbox.ids, [...filled.messageIds].reverse(), 'the mailbox: every message once, newest first');
  assert.ok(mailbox.pages.length >= 2);
  for (const page of mailbox.pages.slice(0, -1)) assert.ok(page.bytes > MAX_ANSWER_BYTES / 2);
});

test('the size a page is cut by is exactly the bytes JSON writes, whatever the text (controls, quotes, surrogates, lone ones)', () => {
  const unit = fc.oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0xffff }),
    fc.integer({ min: 0xd800, max: 0xdfff }),
  );
  const text = fc.array(unit, { maxLength: 40 }).map((codes) => String.fromCharCode(...codes));
  fc.assert(
    fc.property(fc.oneof(text, fc.string({ unit: 'binary' }), fc.constant(null)), (value) => {
      assert.equal(jsonBytes(value), Buffer.byteLength(JSON.stringify(value), 'utf8'));
    }),
    { seed: 20261126, numRuns: 5000 },
  );
});

test('a user owns at most MAX_ITEMS_PER_USER items: one more is a 409 with a clear detail, and nothing is stored', async (t) => {
  const { app } = await buildTestApp(t);
  const client = injectClient(app);
  const owner = (await postOk<{ id: number }>(client, '/users/', { email: 'owner@example.com', password: 'long enough password' })).id;
  for (let index = 0; index < MAX_ITEMS_PER_USER; index += 1) await postOk(client, `/users/${owner}/items/`, { title: `#${index}` });
  const response = await client.post(`/users/${owner}/items/`, { title: 'one too many' });
  assert.equal(response.status, 409);
  assert.deepEqual(JSON.parse(response.body), { detail: `Too many items: a user may own at most ${MAX_ITEMS_PER_USER}` });
  const stored = await app.db.selectFrom('items').select('id').where('owner_id', '=', owner).execute();
  assert.equal(stored.length, MAX_ITEMS_PER_USER);
  // another user is not affected
  const other = (await postOk<{ id: number }>(client, '/users/', { email: 'other@example.com', password: 'long enough password' })).id;
  await postOk(client, `/users/${other}/items/`, { title: 'mine' });
});

test('parallel item creations cannot pass the bound', async (t) => {
  const { app } = await buildTestApp(t);
  const client = injectClient(app);
  const owner = (await postOk<{ id: number }>(client, '/users/', { email: 'many@example.com', password: 'long enough password' })).id;
  const answers = await Promise.all(Array.from({ length: MAX_ITEMS_PER_USER + 20 }, (_, index) => client.post(`/users/${owner}/items/`, { title: `#${index}` })));
  assert.equal(answers.filter((answer) => answer.status === 200).length, MAX_ITEMS_PER_USER);
  assert.equal(answers.filter((answer) => answer.status === 409).length, 20);
  const stored = await app.db.selectFrom('items').select('id').where('owner_id', '=', owner).execute();
  assert.equal(stored.length, MAX_ITEMS_PER_USER);
});

describe('every text field has a maximum length: one more character is a 422 at its field', () => {
  const FIELDS = [
    { field: 'subject', max: MAX_SUBJECT_LENGTH, url: () => '/msg/create/', body: (ids: number[], text: string) => ({ from_userid: ids[0], to_userid: ids[1], subject: text, message: 'hi' }) },
    { field: 'message', max: MAX_MESSAGE_LENGTH, url: () => '/msg/create/', body: (ids: number[], text: string) => ({ from_userid: ids[0], to_userid: ids[1], subject: 'hi', message: text }) },
    { field: 'title', max: MAX_ITEM_TITLE_LENGTH, url: (ids: number[]) => `/users/${ids[0]}/items/`, body: (_ids: number[], text: string) => ({ title: text }) },
    { field: 'description', max: MAX_ITEM_DESCRIPTION_LENGTH, url: (ids: number[]) => `/users/${ids[0]}/items/`, body: (_ids: number[], text: string) => ({ title: 't', description: text }) },
  ] as const;

  for (const { field, max, url, body } of FIELDS) {
    test(`${field}: ${max} characters are accepted, ${max + 1} are a 422 at ["body","${field}"] and nothing is stored`, async (t) => {
      const { app } = await buildTestApp(t);
      const client = injectClient(app);
      const ids: number[] = [];
      for (const name of ['ada', 'bob']) {
        ids.push((await postOk<{ id: number }>(client, '/users/', { email: `${name}@example.com`, password: 'long enough password' })).id);
      }
      const table = field === 'subject' || field === 'message' ? 'messages' : 'items';
      const count = async () => (await app.db.selectFrom(table).select('id').execute()).length;

      const accepted = await client.post(url(ids), body(ids, worst(max)));
      assert.equal(accepted.status, 200, accepted.body.slice(0, 300));
      assert.equal((JSON.parse(accepted.body) as Record<string, string>)[field], worst(max));

      const refused = await client.post(url(ids), body(ids, 'x'.repeat(max + 1)));
      assert.equal(refused.status, 422);
      assert.deepEqual(JSON.parse(refused.body), {
        detail: [{ loc: ['body', field], msg: `ensure this value has at most ${max} characters`, type: 'value_error.any_str.max_length', ctx: { limit_value: max } }],
      });
      assert.equal(await count(), 1);
    });
  }

  test('a bad batch flag of any length is the contract\'s "Invalid option: <value as sent>", bounded by the body limit', async (t) => {
    const { app } = await buildTestApp(t, { BODY_LIMIT_BYTES: '4096' });
    const long = 'x'.repeat(4000);
    const response = await app.inject({ method: 'PUT', url: '/msg/list/', payload: { message_id_list: [1], read: long } });
    assert.equal(response.statusCode, 422);
    assert.equal(response.body, `{"detail":"Invalid option: ${long}"}`);
    const tooLarge = await app.inject({ method: 'PUT', url: '/msg/list/', payload: { message_id_list: [1], read: `${long}${long}` } });
    assert.equal(tooLarge.statusCode, 413);
    const short = await app.inject({ method: 'PUT', url: '/msg/list/', payload: { message_id_list: [1], read: 'maybe' } });
    assert.equal(short.body, '{"detail":"Invalid option: maybe"}');
  });

  test('a mailbox cursor longer than any we issue is refused before it is decoded', async (t) => {
    const { app } = await buildTestApp(t);
    const client = injectClient(app);
    const user = (await postOk<{ id: number }>(client, '/users/', { email: 'cursor@example.com', password: 'long enough password' })).id;
    const response = await app.inject({ method: 'GET', url: `/users/${user}/messages?cursor=${'A'.repeat(10_000)}` });
    assert.equal(response.statusCode, 422);
    assert.deepEqual(response.json(), { detail: [{ loc: ['query', 'cursor'], msg: 'invalid cursor', type: 'value_error.cursor' }] });
  });

  test('a 1 MiB list of bad ids answers at most MAX_VALIDATION_ISSUES problems', async (t) => {
    const { app } = await buildTestApp(t);
    const ids = Array.from({ length: 200_000 }, () => 'x');
    const response = await app.inject({ method: 'PUT', url: '/msg/list/', payload: { message_id_list: ids } });
    assert.equal(response.statusCode, 422);
    const { detail } = response.json<{ detail: { loc: unknown[] }[] }>();
    assert.equal(detail.length, MAX_VALIDATION_ISSUES);
    assert.deepEqual(detail[0]?.loc, ['body', 'message_id_list', 0]);
    assert.ok(response.rawPayload.length < 20_000, `${response.rawPayload.length} bytes`);
  });

  test('the validator checks minLength as pydantic v1 does (for passwords)', () => {
    const schema = { type: 'object', properties: { password: { type: 'string', minLength: 8, maxLength: 256 } }, required: ['password'] };
    assert.deepEqual(validatePart(schema, { password: 'short' }, 'body'), {
      ok: false,
      issues: [{ loc: ['body', 'password'], msg: 'ensure this value has at least 8 characters', type: 'value_error.any_str.min_length', ctx: { limit_value: 8 } }],
    });
    assert.deepEqual(validatePart(schema, { password: 'eight ch' }, 'body'), { ok: true, value: { password: 'eight ch' } });
  });
});

test('large answers take turns: one per event-loop iteration, with I/O answered between them; small ones never wait', async () => {
  assert.equal(largeAnswerTurn({ bytes: LARGE_ANSWER_BYTES - 1 }), undefined);
  const order: string[] = [];
  // Each turn takes 3 ms, as serializing a large answer does; a timer set in it stands for a request
  // that arrived meanwhile: due when the turn ends, it runs in the next iteration, before the next turn.
  const turns = [1, 2, 3].map((n) =>
    largeAnswerTurn({ bytes: LARGE_ANSWER_BYTES })?.then(() => {
      order.push(`large ${n}`);
      setTimeout(() => order.push(`timer after ${n}`), 1);
      const end = performance.now() + 3;
      while (performance.now() < end);
    }),
  );
  assert.ok(turns.every((turn) => turn !== undefined));
  await Promise.all(turns);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(order, ['large 1', 'timer after 1', 'large 2', 'timer after 2', 'large 3', 'timer after 3']);
});

function residentBytes(pid: number): number {
  const kilobytes = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kilobytes) * 1024;
}

test(
  'twelve largest pages at once over a real socket: /healthz answers within a second and memory stays bounded',
  { skip: SQLITE_PASS_ONLY },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'inbox-large-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const service = await startService({ DATABASE_URL: `sqlite:${join(dir, 'inbox.db')}`, REDIS_URL: '', LOG_LEVEL: 'warn' });
    t.after(() => service.child.kill('SIGKILL'));
    const pid = service.child.pid;
    assert.ok(pid !== undefined);
    const client = httpClient(service.url);
    const filled = await fill(client);

    const urls = [...OFFSET_LISTS.map((list) => `${list.url}?limit=1000`), largestMailboxPage(filled)];
    // One of each first, so code paths are compiled and caches warm before the baseline.
    for (const url of urls) assertUnderCap(await client.get(url), url);
    const baseline = residentBytes(pid);

    let peak = baseline;
    let slowestHealth = 0;
    let healthChecks = 0;
    let done = false;
    const watch = (async () => {
      // Bounded by the parallel requests' end, and by a minute in any case.
      const deadline = Date.now() + 60_000;
      while (!done && Date.now() < deadline) {
        const started = performance.now();
        const health = await fetch(`${service.url}/healthz`, { signal: AbortSignal.timeout(5000) });
        assert.equal(health.status, 200);
        await health.arrayBuffer();
        slowestHealth = Math.max(slowestHealth, performance.now() - started);
        healthChecks += 1;
        peak = Math.max(peak, residentBytes(pid));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    // Counted as they stream in, so this process's own work stays small beside the server's.
    const sizes = await Promise.all(
      Array.from({ length: 12 }, async (_, index) => {
        const response = await fetch(`${service.url}${urls[index % urls.length]}`);
        assert.equal(response.status, 200);
        let bytes = 0;
        for await (const chunk of response.body ?? []) bytes += (chunk as Uint8Array).byteLength;
        return bytes;
      }),
    );
    done = true;
    await watch;
    peak = Math.max(peak, residentBytes(pid));

    for (const bytes of sizes) assert.ok(bytes > 0 && bytes <= MAX_ANSWER_BYTES, `${bytes} bytes`);
    t.diagnostic(`healthz: ${healthChecks} checks, slowest ${slowestHealth.toFixed(0)} ms; RSS ${(baseline / 2 ** 20).toFixed(0)} MB → peak ${(peak / 2 ** 20).toFixed(0)} MB`);
    assert.ok(healthChecks > 0);
    assert.ok(slowestHealth < 1000, `/healthz took ${slowestHealth.toFixed(0)} ms`);
    // Each answer in flight exists a few times at most (rows, JSON text, bytes being written): 4 × 12 × 8 MiB = 384 MiB.
    // Before pages were cut by size, one such page alone was 1.5 GB.
    const bound = 4 * 12 * MAX_ANSWER_BYTES;
    assert.ok(peak - baseline < bound, `RSS grew by ${((peak - baseline) / 2 ** 20).toFixed(0)} MB, over ${bound / 2 ** 20} MB`);
  },
);
