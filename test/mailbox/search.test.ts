/**
 * GET /users/{id}/messages?q=words: full-text search over subject and body within one user's mailbox.
 * Every word must match, the last one as a prefix; case and accents do not matter; quotes, operators
 * and punctuation are separators, never syntax; combinable with folder, unread and the cursor.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessage } from '../helpers/factories.js';
import { type Kysely, sql } from 'kysely';
import { dialectOf, inTransaction } from '../../src/db/create-db.js';
import type { Database } from '../../src/db/database.js';
import * as searchWordsLowered from '../../src/db/migrations/0009-search-words-lowered.js';
import { indexUnindexedMessages, searchWords } from '../../src/modules/mailbox/search-index.js';
import { assertDetail, insertMail, type MailboxMessageBody, type MailboxMessagesPage, mailboxMessages, sendMail, storedMessageIds } from './mailbox-support.js';

/** The ids a search answers, newest first as listed (in every state of SQLite's index: inEveryIndexState). */
async function search(app: FastifyInstance, userId: number, q: string, extra = ''): Promise<number[]> {
  return inEveryIndexState(app, async () => {
    const page = await mailboxMessages(app, userId, `?q=${encodeURIComponent(q)}${extra}`);
    return page.messages.map((message) => message.id);
  });
}

/** The ids a search answers when paged one message at a time with the cursor (at most 10 pages). */
async function searchOneByOne(app: FastifyInstance, userId: number, q: string): Promise<number[]> {
  return inEveryIndexState(app, async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: MailboxMessagesPage = await mailboxMessages(app, userId, `?q=${encodeURIComponent(q)}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.messages.map((message) => message.id));
      cursor = page.next_cursor;
    } while (cursor !== null && seen.length < 10);
    return seen;
  });
}

/**
 * SQLite keeps new messages' words in a pending table until they are moved into the FTS5 table in
 * batches (search-index.ts), and a search reads both. So there, `read` runs three times, with the words
 * of every indexed message pending, with every other one's, and with all of them in the FTS5 table, and
 * the three answers must be the same. PostgreSQL has one index: `read` runs once.
 */
async function inEveryIndexState<T>(app: FastifyInstance, read: () => Promise<T>): Promise<T> {
  if (dialectOf(app.db) !== 'sqlite') return read();
  const answers: T[] = [];
  for (const pending of [() => true, (id: number) => id % 2 === 0, () => false]) {
    await setIndexState(app.db, pending);
    answers.push(await read());
  }
  assert.deepEqual(answers[0], answers[2], 'every word pending and every word in the FTS5 table: the same answer');
  assert.deepEqual(answers[1], answers[2], 'half of the words pending: the same answer');
  return answers[2]!;
}

/** Puts the words of every message the index holds (pending or not) where `pending` says, and nothing else. */
async function setIndexState(db: Kysely<Database>, pending: (id: number) => boolean): Promise<void> {
  await inTransaction(db, async (trx) => {
    const { rows } = await sql<{ id: number; subject: string; message: string }>`select id, subject, message from messages
      where id in (select rowid from messages_search) or id in (select id from messages_search_pending) order by id`.execute(trx);
    await sql`insert into messages_search (messages_search) values ('delete-all')`.execute(trx);
    await sql`delete from messages_search_pending`.execute(trx);
    for (const row of rows) {
      const table = pending(row.id) ? sql`messages_search_pending (id, words)` : sql`messages_search (rowid, words)`;
      await sql`insert into ${table} values (${row.id}, ${searchWords(row)})`.execute(trx);
    }
  });
}

/** Sends `from` → `to` through POST /users/{from}/messages and returns the id. */
async function mail(app: FastifyInstance, from: number, to: number, subject: string, message: string): Promise<number> {
  return (await sendMail(app, from, { to_userid: to, subject, message })).id;
}

test('every word must match, in any order, in the subject or the body; newest first', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const lunch = await mail(app, bob.id, ada.id, 'Lunch on Friday', 'Shall we meet at noon?');
  const dinner = await mail(app, bob.id, ada.id, 'Dinner', 'Friday evening, after the lunch rush');
  const report = await mail(app, bob.id, ada.id, 'Quarterly report', 'Numbers for Q3 attached');

  for (const [q, expected] of [
    ['lunch', [dinner, lunch]],
    ['friday lunch', [dinner, lunch]],
    ['lunch friday', [dinner, lunch]],
    ['lunch noon', [lunch]],
    ['noon', [lunch]],
    ['evening dinner', [dinner]],
    ['lunch saturday', []],
    ['quarterly', [report]],
    ['numbers', [report]],
    ['q3 quarterly attached', [report]],
    ['report lunch', []],
  ] as const) {
    assert.deepEqual(await search(app, ada.id, q), expected, `q=${q}`);
  }
});

test('the last word matches as a prefix (q=lun finds "Lunch"), the others only as whole words', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const lunch = await mail(app, bob.id, ada.id, 'Lunch on Friday', 'Shall we meet at noon?');
  const report = await mail(app, bob.id, ada.id, 'Quarterly report', 'Numbers for Q3 attached');

  for (const [q, expected] of [
    ['lun', [lunch]],
    ['l', [lunch]],
    ['friday lun', [lunch]],
    ['quart', [report]],
    ['report quar', [report]],
    ['q', [report]],
    ['lun friday', []],
    ['unch', []],
    ['lunches', []],
  ] as const) {
    assert.deepEqual(await search(app, ada.id, q), expected, `q=${q}`);
  }
});

test('case and accents do not matter either way, and decomposed (NFD) text is found by a composed query and back', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const accented = await mail(app, bob.id, ada.id, 'Café Olé', 'see you there');
  const plain = await mail(app, bob.id, ada.id, 'cafe', 'plain text');
  const decomposed = await mail(app, bob.id, ada.id, 'Dessert', 'Cafe\u0301 cre\u0300me bru\u0302le\u0301e');
  const cyrillic = await mail(app, bob.id, ada.id, 'Привет', 'Мир и Кафе');
  assert.equal((await mailboxMessages(app, ada.id)).messages.find((message) => message.id === decomposed)?.message, 'Cafe\u0301 cre\u0300me bru\u0302le\u0301e');

  for (const [q, expected] of [
    ['cafe', [decomposed, plain, accented]],
    ['CAFE', [decomposed, plain, accented]],
    ['café', [decomposed, plain, accented]],
    ['CAFÉ', [decomposed, plain, accented]],
    ['Cafe\u0301', [decomposed, plain, accented]],
    ['caf', [decomposed, plain, accented]],
    ['ole', [accented]],
    ['OLÉ', [accented]],
    ['crème brûlée', [decomposed]],
    ['CREME BRULEE', [decomposed]],
    ['cre\u0300me bru\u0302le\u0301e', [decomposed]],
    ['brul', [decomposed]],
    ['ПРИВЕТ', [cyrillic]],
    ['привет ми', [cyrillic]],
    ['кафе', [cyrillic]],
  ] as const) {
    assert.deepEqual(await search(app, ada.id, q), expected, `q=${q}`);
  }
});

test('letters that compatibility folding turns into ASCII capitals (𝐇𝐞𝐥𝐥𝐨, ℝome) match their plain words, either way', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  // Mathematical bold and double-struck letters have no lower case of their own; NFKD makes them H and R.
  const styled = await mail(app, bob.id, ada.id, '\u{1D407}\u{1D41E}\u{1D425}\u{1D425}\u{1D428} from \u211Dome', '\u{1D6A8}');
  const plain = await mail(app, bob.id, ada.id, 'hello from rome', 'x');

  for (const [q, expected] of [
    ['hello', [plain, styled]],
    ['HELLO rome', [plain, styled]],
    ['\u{1D407}\u{1D41E}\u{1D425}\u{1D425}\u{1D428}', [plain, styled]],
    ['from \u211Do', [plain, styled]],
    ['hello r', [plain, styled]],
    ['\u03B1', [styled]],
    ['\u0391', [styled]],
  ] as const) {
    assert.deepEqual(await search(app, ada.id, q), expected, `q=${q}`);
  }
});

test('migration 0009 indexes again the messages whose words had capitals in them (as they were indexed before it)', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const styled = await mail(app, bob.id, ada.id, '\u{1D407}\u{1D41E}\u{1D425}\u{1D425}\u{1D428} from \u211Dome', '\u{1D6A8}');
  const plain = await mail(app, bob.id, ada.id, 'hello from rome', 'x');
  // Its words as the rule before lowered them only once: "Hello", "Rome" and a Greek capital alpha.
  const before = 'Hello from Rome \u0391';
  const dialect = dialectOf(app.db);
  if (dialect === 'postgres') {
    await sql`update messages set search_vector = array_to_tsvector(string_to_array(${before}, ' ')) where id = ${styled}`.execute(app.db);
  } else {
    await setIndexState(app.db, () => false);
    await sql`delete from messages_search where rowid = ${styled}`.execute(app.db);
    await sql`insert into messages_search (rowid, words) values (${styled}, ${before})`.execute(app.db);
  }
  const find = async (q: string) => (await mailboxMessages(app, ada.id, `?q=${encodeURIComponent(q)}`)).messages.map((message) => message.id);
  assert.deepEqual(await find('\u03B1'), [], 'the old words: no lower-case alpha');
  await searchWordsLowered.up(app.db as unknown as Kysely<unknown>, dialect);
  assert.deepEqual(await find('\u03B1'), [styled]);
  assert.deepEqual(await find('hello rome'), [plain, styled]);
});

test("a search looks only in that user's mailbox: another user's matching mail is never found", async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const carol = await createUser(app);
  const toAda = await mail(app, bob.id, ada.id, 'Lunch', 'with Ada');
  const toCarol = await mail(app, bob.id, carol.id, 'Lunch', 'with Carol');
  const carolToBob = await mail(app, carol.id, bob.id, 'Lunch', 'with Bob, from Carol');

  assert.deepEqual(await search(app, ada.id, 'lunch'), [toAda]);
  assert.deepEqual(await search(app, ada.id, 'carol'), []);
  assert.deepEqual(await search(app, carol.id, 'lunch'), [toCarol]);
  assert.deepEqual(await search(app, bob.id, 'lunch'), [carolToBob]);
  assert.deepEqual(await search(app, bob.id, 'lunch', '&folder=sent'), [toCarol, toAda]);
  assert.deepEqual(await search(app, carol.id, 'lunch bob', '&folder=sent'), [carolToBob]);
  assert.deepEqual(await search(app, carol.id, 'ada', '&folder=sent'), []);
});

test('without a folder, q searches the received messages (as the listing without q), with folder=sent the sent ones in the sender’s view', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const received = await sendMail(app, bob.id, { to_userid: ada.id, subject: 'Invoice 1', message: 'due' });
  const sent = await sendMail(app, ada.id, { to_userid: bob.id, subject: 'Invoice 2', message: 'paid' });
  assert.equal((await batchUpdate(app, { message_id_list: [sent.id], spam: 'true' })).statusCode, 200);

  assert.deepEqual(await search(app, ada.id, 'invoice'), [received.id]);
  const sentPage = await mailboxMessages(app, ada.id, '?q=invoice&folder=sent');
  assert.deepEqual(sentPage, { messages: [sent], next_cursor: null });
  assert.deepEqual(await search(app, ada.id, 'paid', '&folder=sent&unread=false'), [sent.id]);
  assert.deepEqual(await search(app, ada.id, 'paid', '&folder=sent&unread=true'), []);
});

test('q combines with folder, unread and limit, and the cursor pages through the matches without a gap or a repeat', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const ids: number[] = [];
  for (let index = 0; index < 7; index += 1) {
    ids.push(await mail(app, bob.id, ada.id, `Project update #${index}`, 'status'));
    await mail(app, bob.id, ada.id, `Unrelated ${index}`, 'other things');
  }
  const [p0, p1, p2, p3, p4, p5, p6] = ids as [number, number, number, number, number, number, number];
  for (const payload of [
    { message_id_list: [p1, p2], trash: 'true' },
    { message_id_list: [p3], spam: 'true' },
    { message_id_list: [p4, p5], read: 'true' },
  ]) {
    assert.equal((await batchUpdate(app, payload)).statusCode, 200);
  }

  for (const [extra, expected] of [
    ['', [p6, p5, p4, p3, p2, p1, p0]],
    ['&folder=inbox', [p6, p5, p4, p0]],
    ['&folder=trash', [p2, p1]],
    ['&folder=spam', [p3]],
    ['&unread=true', [p6, p3, p2, p1, p0]],
    ['&folder=inbox&unread=false', [p5, p4]],
    ['&folder=sent', []],
    ['&limit=2', [p6, p5]],
  ] as const) {
    assert.deepEqual(await search(app, ada.id, 'project', extra), expected, `q=project${extra}`);
  }
  assert.deepEqual(await search(app, ada.id, 'project status update', '&folder=trash&unread=true'), [p2, p1]);
  assert.deepEqual(await search(app, bob.id, 'project', '&folder=sent&limit=200'), [...ids].reverse());

  const seen: number[] = [];
  const sizes: number[] = [];
  let cursor: string | null = null;
  do {
    const page: MailboxMessagesPage = await mailboxMessages(app, ada.id, `?q=proj&limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
    sizes.push(page.messages.length);
    seen.push(...page.messages.map((message) => message.id));
    cursor = page.next_cursor;
  } while (cursor !== null);
  assert.deepEqual(sizes, [3, 3, 1]);
  assert.deepEqual(seen, [...ids].reverse());
});

test('quotes and operators are words, never syntax: OR, NOT, -, phrases and column filters match as plain words', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const both = await mail(app, bob.id, ada.id, 'Options', 'Plan A or plan B');
  const onlyA = await mail(app, bob.id, ada.id, 'Options', 'Plan A only');
  const lunch = await mail(app, bob.id, ada.id, 'Lunch on Friday', 'noon');
  const notLunch = await mail(app, bob.id, ada.id, 'Not lunch again', 'sigh');

  for (const [q, expected] of [
    // As operators these would match "Plan A only" too (OR), exclude Friday (-), need adjacency (phrase),
    // drop the word "and" (AND), filter a column (subject:, message:) or look for nearness (NEAR).
    ['A OR B', [both]],
    ['plan OR', [both]],
    ['lunch -friday', [lunch]],
    ['"friday lunch"', [lunch]],
    ['"lunch', [notLunch, lunch]],
    ['NOT lunch', [notLunch]],
    ['lunch AND again', []],
    ['subject:lunch', []],
    ['message:noon', []],
    ['options:plan', [onlyA, both]],
    ['lunch*', [notLunch, lunch]],
    ['NEAR(plan only)', []],
    ['(plan) & (a) | only', [onlyA]],
    ["'plan'; only", [onlyA]],
    ['plan_only', [onlyA]],
    ['plan.a.or.b', [both]],
  ] as const) {
    assert.deepEqual(await search(app, ada.id, q), expected, `q=${q}`);
  }
});

const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const HOSTILE = [
  '"',
  "'",
  '"unterminated',
  "'unterminated",
  '""',
  "''",
  'a OR b',
  'a AND b',
  'NOT a',
  'OR',
  'AND',
  'NOT',
  'NEAR',
  'NEAR(a b)',
  'NEAR(a b, 2)',
  '*',
  '**',
  'a*b',
  '*a',
  '-x',
  '-',
  '--',
  'a:*',
  ':*',
  ':',
  '!(a)',
  '!',
  '!!',
  '\\',
  '\\"',
  '%',
  '%_%',
  '_',
  "'; drop table messages; --",
  '"; DELETE FROM messages_search; --',
  '^',
  '^a',
  'col:foo',
  'subject:foo',
  'message:foo',
  'rowid:1',
  '{subject message}: a',
  '(',
  ')',
  '()',
  'a & b',
  'a | b',
  'a <-> b',
  'a <2> b',
  '&',
  '|',
  '+',
  '~a',
  '$1',
  '?',
  '@@ a',
  '😀',
  '😀 lunch 🎉',
  '\u200b',
  ' ',
  '\t\n',
  'ﬁ',
  '①②',
  '²',
  '٣',
  'Cafe\u0301',
  '\u0301',
  'ǅ',
  'a'.repeat(200),
  '0'.repeat(200),
  'x '.repeat(100),
  PUNCTUATION.repeat(7).slice(0, 200),
  '"a" '.repeat(50),
];

test('no search string is a 5xx or a syntax error: each hostile q answers 200 with a page of messages', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  await mail(app, bob.id, ada.id, 'a b x foo', 'lunch 1 plan');
  await mail(app, ada.id, bob.id, 'a b', 'x');
  const before = await storedMessageIds(app);

  for (const q of HOSTILE) {
    assert.ok(q.length >= 1 && q.length <= 200, `${JSON.stringify(q)} is a valid length`);
    for (const extra of ['', '&folder=sent', '&folder=inbox&unread=true&limit=2']) {
      const response = await app.inject({ method: 'GET', url: `/users/${ada.id}/messages?q=${encodeURIComponent(q)}${extra}` });
      assert.equal(response.statusCode, 200, `q=${JSON.stringify(q)}${extra}: ${response.body}`);
      const body = response.json<{ messages: unknown; next_cursor: unknown }>();
      assert.ok(Array.isArray(body.messages), `q=${JSON.stringify(q)}${extra}: ${response.body}`);
      assert.ok(body.next_cursor === null || typeof body.next_cursor === 'string', `q=${JSON.stringify(q)}${extra}`);
    }
  }
  assert.deepEqual(await storedMessageIds(app), before);
  // The index still answers after all that.
  assert.equal((await search(app, ada.id, 'lunch')).length, 1);
});

test('a q without letters or digits lists as if there were no q (the spec\'s decision)', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const ids: number[] = [];
  for (let index = 0; index < 4; index += 1) ids.push(await mail(app, bob.id, ada.id, `#${index}`, 'x'));
  const sent = await mail(app, ada.id, bob.id, 'out', 'y');
  assert.equal((await batchUpdate(app, { message_id_list: [ids[1] ?? 0], trash: 'true' })).statusCode, 200);

  for (const q of ['"', '***', '-', ' ', '😀', PUNCTUATION]) {
    assert.deepEqual(await search(app, ada.id, q), [...ids].reverse(), `q=${JSON.stringify(q)}`);
    assert.deepEqual(await search(app, ada.id, q, '&folder=trash'), [ids[1]], `q=${JSON.stringify(q)}&folder=trash`);
    assert.deepEqual(await search(app, ada.id, q, '&folder=sent'), [sent], `q=${JSON.stringify(q)}&folder=sent`);
  }
});

test('q of 1 to 200 characters is accepted; empty or 201 characters is a 422 at ["query","q"]', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  const long = await mail(app, bob.id, ada.id, 'x'.repeat(200), 'long word');

  assert.deepEqual(await search(app, ada.id, 'x'.repeat(200)), [long]);
  assert.deepEqual(await search(app, ada.id, 'x'), [long]);
  const maxLength = [{ loc: ['query', 'q'], msg: 'ensure this value has at most 200 characters', type: 'value_error.any_str.max_length', ctx: { limit_value: 200 } }];
  for (const q of ['x'.repeat(201), PUNCTUATION.repeat(7).slice(0, 201), 'lunch '.repeat(40).slice(0, 201)]) {
    assertDetail(await app.inject({ method: 'GET', url: `/users/${ada.id}/messages?q=${encodeURIComponent(q)}` }), 422, maxLength, `${q.length} characters`);
  }
  const minLength = [{ loc: ['query', 'q'], msg: 'ensure this value has at least 1 characters', type: 'value_error.any_str.min_length', ctx: { limit_value: 1 } }];
  assertDetail(await app.inject({ method: 'GET', url: `/users/${ada.id}/messages?q=` }), 422, minLength, 'empty');
  assertDetail(await app.inject({ method: 'GET', url: `/users/${ada.id}/messages?q=&folder=sent` }), 422, minLength, 'empty with folder');
});

test('a message is searchable as soon as it is created, through /msg/create/, POST /users/{id}/messages or as a reply', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);

  const created = await sendMessage(app, bob.id, ada.id, { subject: 'Zebra crossing', message: 'xylophone lesson' });
  assert.deepEqual(await search(app, ada.id, 'zebra'), [created.id]);
  assert.deepEqual(await search(app, ada.id, 'xylo'), [created.id]);
  assert.deepEqual(await search(app, bob.id, 'zebra crossing', '&folder=sent'), [created.id]);

  const posted = await sendMail(app, bob.id, { to_email: ada.email, subject: 'Walrus', message: 'yodel' });
  assert.deepEqual(await search(app, ada.id, 'walrus yodel'), [posted.id]);

  const reply: MailboxMessageBody = await sendMail(app, ada.id, { in_reply_to: created.id, message: 'quokka' });
  // The reply's subject ("Re: Zebra crossing") is searchable too.
  assert.deepEqual(await search(app, bob.id, 'zebra quokka'), [reply.id]);
  assert.deepEqual(await search(app, ada.id, 'zebra', '&folder=sent'), [reply.id]);
});

test('in a mailbox larger than the first look (1,000 newest), hits on both sides of it are listed newest first, paged without a gap', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  // Old matches, then 1,200 newer messages of which only a few match: the search must go past the newest 1,000.
  const oldHits = [await mail(app, bob.id, ada.id, 'Needle one', 'old'), await mail(app, bob.id, ada.id, 'hay', 'needles two')];
  const bulk = await insertMail(app, bob.id, ada.id, 1200);
  const indexed = await indexUnindexedMessages(app.db);
  assert.equal(indexed, 1200, 'the bulk rows went in without the service, so the rebuild indexes them');
  const recentHits = [await mail(app, bob.id, ada.id, 'needle three', 'new'), await mail(app, bob.id, ada.id, 'x', 'NEEDLE four')];
  // Another user's matches are outside Ada's listing on both sides.
  await mail(app, ada.id, bob.id, 'needle for bob', 'not Ada’s');
  const expected = [...recentHits, ...oldHits].sort((a, b) => b - a);

  assert.deepEqual(await search(app, ada.id, 'needle'), expected);
  assert.deepEqual(await searchOneByOne(app, ada.id, 'needle'), expected);
  // A bulk subject ("bulk #350", older than the newest 1,000) is found too; no other starts with 350.
  assert.deepEqual(await search(app, ada.id, 'bulk 350'), [bulk[350]]);
});

test('when most hits are in other mailboxes, on both sides of the first look, the search still lists exactly this mailbox’s, newest first and paged', async (t) => {
  const { app } = await buildTestApp(t);
  const ada = await createUser(app);
  const bob = await createUser(app);
  /** `count` messages straight into the table (indexed below), with the given subject. */
  const insert = async (to: number, count: number, subject: string) => {
    for (let start = 0; start < count; start += 200) {
      const rows = Array.from({ length: Math.min(200, count - start) }, () => ({ from_userid: bob.id, to_userid: to, subject, message: 'm' }));
      await app.db.insertInto('messages').values(rows).execute();
    }
  };
  // Ada's hits among 3,000 of Bob's (each stretch holds more than SQLite's downward reading takes before
  // it hands over), and 1,800 of Ada's messages that do not match: more than the first look's 1,000
  // below where the downward reading stops, so the oldest hits are found only by reading the index once.
  const oldHits = [await mail(app, bob.id, ada.id, 'bulk old one', 'x'), await mail(app, bob.id, ada.id, 'bulk old two', 'x')];
  await insert(bob.id, 1500, 'bulk for bob');
  await insert(ada.id, 1200, 'filler');
  await insert(bob.id, 1500, 'bulk for bob');
  await indexUnindexedMessages(app.db);
  const middleHit = await mail(app, bob.id, ada.id, 'bulk middle', 'x');
  await insert(ada.id, 600, 'filler');
  await indexUnindexedMessages(app.db);
  const newHit = await mail(app, bob.id, ada.id, 'bulk new', 'x');
  const expected = [newHit, middleHit, ...oldHits.reverse()];

  assert.deepEqual(await search(app, ada.id, 'bulk'), expected);
  assert.deepEqual(await search(app, ada.id, 'bul'), expected, 'the last word as a prefix');
  assert.deepEqual(await searchOneByOne(app, ada.id, 'bulk'), expected);
  assert.equal((await search(app, bob.id, 'bulk')).length, 50, 'Bob’s own search pages his 3,000');
});
