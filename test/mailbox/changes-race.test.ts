/**
 * /changes is exact under concurrency: writers send mail to and from Bob and batch-update his
 * messages in parallel while clients follow his (and Ada's) mailbox, each applying every page of
 * changes to a local copy (fetching what was created or updated, dropping what was destroyed). Once
 * the writers stop and the clients caught up, every copy equals a fresh listing of that mailbox.
 * On SQLite the requests interleave at every await; on PostgreSQL they truly race, and the second
 * test splits writers and readers over two instances of one database.
 *
 * The writers' choices come from a seeded generator: CHANGES_RACE_SEED=<n> replays a run's choices
 * (the interleaving itself cannot be replayed).
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildTestApp, createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { createUser, sendMessage, type UserBody } from '../helpers/factories.js';
import { testDatabaseUrl } from '../helpers/services.js';
import { applyChanges, changesSince, copyAsObject, freshCopy, type MailboxCopy, sendMail } from './mailbox-support.js';

const onPostgres = testDatabaseUrl() !== undefined;
const SENDS_PER_WRITER = 60;
const BATCHES_PER_WRITER = 90;

/** mulberry32: a small seeded generator, so that a failing run's choices can be replayed. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  return {
    below: (count: number) => Math.floor(next() * count),
    pick<T>(items: readonly T[]): T {
      return items[Math.floor(next() * items.length)]!;
    },
  };
}
type Random = ReturnType<typeof generator>;

function seedOfRun(): number {
  const given = process.env.CHANGES_RACE_SEED;
  return given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

interface Cast {
  ada: UserBody;
  bob: UserBody;
  carol: UserBody;
  /** Bob's received messages so far: what the batch writers pick from */
  bobReceived: number[];
  /** the messages Bob sent to Ada: what Ada replies to */
  bobToAda: number[];
}

/** Sends that touch Bob's mailbox (and Ada's), by every way the service has. */
async function sendOne(app: FastifyInstance, cast: Cast, random: Random): Promise<void> {
  const { ada, bob, carol } = cast;
  const sender = random.pick([ada, carol]);
  const kind = random.below(6);
  if (kind === 0) {
    cast.bobReceived.push((await sendMessage(app, sender.id, bob.id, { subject: 'by /msg/create/' })).id);
  } else if (kind === 1) {
    cast.bobReceived.push((await sendMail(app, sender.id, { to_userid: bob.id, subject: 'by the mailbox', message: 'x' })).id);
  } else if (kind === 2) {
    cast.bobReceived.push((await sendMail(app, sender.id, { to_email: bob.email, subject: 'by address', message: 'x' })).id);
  } else if (kind === 3 && cast.bobToAda.length > 0) {
    // Ada answers one of Bob's: the reply goes to Bob.
    cast.bobReceived.push((await sendMail(app, ada.id, { in_reply_to: random.pick(cast.bobToAda), message: 'a reply' })).id);
  } else if (kind === 4) {
    cast.bobToAda.push((await sendMail(app, bob.id, { to_userid: ada.id, subject: 'from Bob', message: 'x' })).id);
  } else {
    // To himself: one message, received and sent, in one step.
    cast.bobReceived.push((await sendMail(app, bob.id, { to_userid: bob.id, subject: 'note', message: 'x' })).id);
  }
}

/** A batch update of up to ten of Bob's messages, with one to three flags, as booleans or strings. */
async function updateSome(app: FastifyInstance, cast: Cast, random: Random): Promise<void> {
  const ids = Array.from({ length: 1 + random.below(10) }, () => random.pick(cast.bobReceived));
  const payload: Record<string, unknown> = { message_id_list: ids };
  const flags = ['read', 'trash', 'spam'].filter(() => random.below(2) === 0);
  for (const flag of flags.length > 0 ? flags : [random.pick(['read', 'trash', 'spam'])]) {
    const value = random.below(2) === 0;
    payload[flag] = random.below(2) === 0 ? value : String(value);
  }
  const response = await app.inject({ method: 'PUT', url: '/msg/list/', payload });
  assert.equal(response.statusCode, 200, response.body);
}

interface Follower {
  name: string;
  userId: number;
  limit: number;
  copy: MailboxCopy;
  state: string;
  /** pages read while the writers were still at work, with changes in them */
  pagesDuringWrites: number;
  /** pages that said more changes were waiting */
  cutPages: number;
  /** ids told as updated that the copy did not hold: the OpenAPI calls them "messages the client has" */
  updatedUnknown: number[];
}

/**
 * A client that follows one mailbox: a fresh listing (while the writers already run), then page after
 * page of /changes applied to its copy, until the writers are done, no page has more, and nothing changed.
 * A slow client pauses between pages, so changes pile up and a message often changes again before its page.
 */
async function follow(app: FastifyInstance, name: string, userId: number, limit: number, writing: () => boolean, pauseMs = 0): Promise<Follower> {
  const { state, copy } = await freshCopy(app, userId);
  const follower: Follower = { name, userId, limit, copy, state, pagesDuringWrites: 0, cutPages: 0, updatedUnknown: [] };
  for (;;) {
    const stillWriting = writing();
    const page = await changesSince(app, userId, follower.state, limit);
    const count = page.created.length + page.updated.length + page.destroyed.length;
    if (stillWriting && count > 0) follower.pagesDuringWrites += 1;
    if (page.has_more_changes) follower.cutPages += 1;
    follower.updatedUnknown.push(...page.updated.filter((id) => !copy.has(id)));
    await applyChanges(app, userId, copy, page);
    follower.state = page.new_state;
    // Read after the writers stopped: a page with nothing in it and nothing more means caught up.
    if (!stillWriting && count === 0 && !page.has_more_changes) return follower;
    if (count === 0 || pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.max(pauseMs, 2)));
  }
}

interface Race {
  /** where writes go (round robin) */
  writeTo: FastifyInstance[];
  /** where clients read */
  readFrom: FastifyInstance;
}

async function race(t: TestContext, { writeTo, readFrom }: Race): Promise<void> {
  const seed = seedOfRun();
  t.diagnostic(`CHANGES_RACE_SEED=${seed}`);
  const [first] = writeTo as [FastifyInstance];
  const cast: Cast = { ada: await createUser(first), bob: await createUser(first), carol: await createUser(first), bobReceived: [], bobToAda: [] };
  const seeding = generator(seed);
  for (let index = 0; index < 20; index += 1) await sendOne(first, cast, seeding);

  let writers = 0;
  const writer = async (index: number, operations: number, operation: typeof sendOne) => {
    const random = generator(seed + 1 + index);
    writers += 1;
    try {
      for (let done = 0; done < operations; done += 1) await operation(writeTo[(index + done) % writeTo.length]!, cast, random);
    } finally {
      writers -= 1;
    }
  };
  const writing = [writer(0, SENDS_PER_WRITER, sendOne), writer(1, SENDS_PER_WRITER, sendOne), writer(2, BATCHES_PER_WRITER, updateSome), writer(3, BATCHES_PER_WRITER, updateSome)];
  const stillWriting = () => writers > 0;
  const reading = [
    follow(readFrom, 'Bob, 3 a page', cast.bob.id, 3, stillWriting),
    follow(readFrom, 'Bob, 1 a page', cast.bob.id, 1, stillWriting),
    follow(readFrom, 'Bob, 2 a page, a slow client', cast.bob.id, 2, stillWriting, 15),
    follow(readFrom, 'Ada, 5 a page', cast.ada.id, 5, stillWriting),
  ];
  await Promise.all(writing);
  const followers = await Promise.all(reading);
  const fresh = await Promise.all(followers.map((follower) => freshCopy(readFrom, follower.userId)));
  for (const follower of followers) {
    t.diagnostic(`${follower.name}: ${follower.pagesDuringWrites} pages with changes during the writes, ${follower.cutPages} cut at the limit, ${follower.copy.size} messages`);
  }

  await t.test('every client, caught up, is at the current state with a copy equal to a fresh listing', () => {
    followers.forEach((follower, index) => {
      const context = `${follower.name} (CHANGES_RACE_SEED=${seed})`;
      // The race was real: the client read changes while the writers were at work, and (Bob's, busy enough) pages were cut.
      assert.ok(follower.pagesDuringWrites >= 5, `${context}: only ${follower.pagesDuringWrites} pages with changes during the writes`);
      if (follower.userId === cast.bob.id) assert.ok(follower.cutPages >= 1, `${context}: no page was cut at its limit`);
      assert.equal(fresh[index]!.state, follower.state, `${context}: the client is at the current state`);
      assert.deepEqual(copyAsObject(follower.copy), copyAsObject(fresh[index]!.copy), `${context}: the copy differs from a fresh listing`);
    });
    // And the listing itself is whole: Bob's mailbox holds every message sent to him or by him.
    assert.equal(fresh[0]!.copy.size, new Set([...cast.bobReceived, ...cast.bobToAda]).size, `CHANGES_RACE_SEED=${seed}`);
  });

  await t.test('every id told as updated was one the client had (the OpenAPI: "messages the client has")', () => {
    for (const follower of followers) {
      assert.deepEqual(follower.updatedUnknown, [], `${follower.name} (CHANGES_RACE_SEED=${seed}): updated ids the client never had`);
    }
  });
}

describe(`writers race clients of /changes (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  test(`${2 * SENDS_PER_WRITER} sends and ${2 * BATCHES_PER_WRITER} batch updates in parallel with four clients (1, 2 slowly, 3 and 5 a page)`, async (t) => {
    const { app } = await buildTestApp(t);
    await race(t, { writeTo: [app], readFrom: app });
  });

  test(
    'two instances of one PostgreSQL: writes through both, the same four clients read through one',
    { skip: onPostgres ? false : 'two instances share a database on PostgreSQL (TEST_DIALECT=postgres)' },
    async (t) => {
      const storage = await createTestStorage(t);
      const [first, second] = await Promise.all([startTestApp(t, storage), startTestApp(t, storage)]);
      await race(t, { writeTo: [first, second], readFrom: second });
    },
  );
});
