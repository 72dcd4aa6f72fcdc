/**
 * Mailbox states and GET /users/{id}/changes through HTTP (issue 15): every change to a mailbox moves
 * its state one step, listings and counts carry the state, and a client that applies the changes
 * since its state, page by page, ends with what a fresh listing shows. Refusals: a malformed state is
 * a 422 at ["query","since"], a state this database cannot answer a 410, someone else's mailbox a 403.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { decodeState, encodeState, wholeStep } from '../../src/modules/mailbox/mailbox-state.js';
import { account, assertNotAuthenticated, authEnv, sendAs } from '../auth/auth-support.js';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser, sendMessage, sendMessages } from '../helpers/factories.js';
import {
  applyChanges,
  assertDetail,
  type ChangesBody,
  changesSince,
  copyAsObject,
  foldersState,
  freshCopy,
  getChanges,
  readMail,
  sendMail,
} from './mailbox-support.js';

/** The step a state names (the state is opaque to clients; the tests look inside to count steps). */
const stepOf = (state: string) => decodeState(state).seq;

async function update(app: FastifyInstance, payload: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: 'PUT', url: '/msg/list/', payload, headers });
  assert.equal(response.statusCode, 200, response.body);
}

/** How the user sees a message: its folder and read mark. */
const pickSide = ({ folder, unread }: { folder: string; unread: string }) => ({ folder, unread });
/** The lists of an answer, without the states. */
const listsOf = ({ created, updated, destroyed, has_more_changes }: ChangesBody) => ({ created, updated, destroyed, has_more_changes });
const nothing = { created: [], updated: [], destroyed: [], has_more_changes: false };
const sortedLists = ({ created, updated, destroyed }: Pick<ChangesBody, 'created' | 'updated' | 'destroyed'>) => {
  const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);
  return { created: sorted(created), updated: sorted(updated), destroyed: sorted(destroyed) };
};

describe('the mailbox state', () => {
  test('without since: the current state as old and new, empty lists; the same state the listings and counts carry', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    const current = async () => {
      const response = await getChanges(app, bob.id);
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json<ChangesBody>();
      assert.deepEqual(listsOf(body), nothing);
      assert.equal(body.old_state, body.new_state);
      assert.equal(body.new_state, await foldersState(app, bob.id));
      return body.new_state;
    };
    const empty = await current();
    assert.match(empty, /^[A-Za-z0-9_-]+$/, 'opaque base64url');
    assert.equal(stepOf(empty), 0);
    assert.equal(decodeState(empty).tag, app.mailboxEvents.tag);

    await sendMessage(app, ada.id, bob.id);
    const afterOne = await current();
    assert.notEqual(afterOne, empty);
    assert.equal(stepOf(afterOne), 1);
    // limit is accepted without since, and changes nothing.
    const withLimit = await getChanges(app, bob.id, '?limit=1');
    assert.deepEqual(withLimit.json(), { old_state: afterOne, new_state: afterOne, ...nothing });
  });

  test('every listing carries the state in its body and in its Mailbox-State header, and the counts in their header, all the same', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    const [first] = await sendMessages(app, ada.id, bob.id, 3);
    await sendMail(app, bob.id, { to_userid: ada.id, subject: 'Lunch on Friday', message: 'Noon?' });
    await update(app, { message_id_list: [first], read: true });
    const state = await foldersState(app, bob.id);
    assert.equal(stepOf(state), 5);

    for (const query of ['', '?folder=inbox', '?folder=trash&unread=true', '?folder=sent', '?q=lunch', '?q=lunch&folder=sent', '?limit=1', '?q=nothing-like-it']) {
      const response = await app.inject({ method: 'GET', url: `/users/${bob.id}/messages${query}` });
      assert.equal(response.statusCode, 200, `${query}: ${response.body}`);
      assert.equal(response.json<{ state: string }>().state, state, query);
      assert.equal(response.headers['mailbox-state'], state, query);
    }
    const next = await app.inject({ method: 'GET', url: `/users/${bob.id}/messages?limit=1` });
    const cursor = next.json<{ next_cursor: string }>().next_cursor;
    const older = await app.inject({ method: 'GET', url: `/users/${bob.id}/messages?limit=1&cursor=${cursor}` });
    assert.equal(older.headers['mailbox-state'], state, 'a later page carries it too');
    assert.equal(older.json<{ state: string }>().state, state);
  });

  test('a message moves both mailboxes one step, a message to oneself its mailbox once; a batch moves its recipients one step each, never the senders', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    const carol = await createUser(app);
    const steps = async () => [stepOf(await foldersState(app, ada.id)), stepOf(await foldersState(app, bob.id)), stepOf(await foldersState(app, carol.id))];
    assert.deepEqual(await steps(), [0, 0, 0]);

    const toBob = await sendMessages(app, ada.id, bob.id, 10);
    assert.deepEqual(await steps(), [10, 10, 0]);
    const toCarol = (await sendMail(app, ada.id, { to_userid: carol.id, subject: 'Hi Carol', message: 'x' })).id;
    assert.deepEqual(await steps(), [11, 10, 1]);
    await sendMail(app, bob.id, { to_userid: bob.id, subject: 'note to self', message: 'x' });
    await sendMessage(app, carol.id, carol.id);
    assert.deepEqual(await steps(), [11, 11, 2]);

    // Nine of Bob's and Carol's one, in one batch: one step each; Ada, who sent them, sees no change.
    await update(app, { message_id_list: [...toBob.slice(0, 9), toCarol], read: 'true' });
    assert.deepEqual(await steps(), [11, 12, 3]);
    // Only the changed messages count: of these, only Bob's tenth is still unread.
    await update(app, { message_id_list: [toBob[9], ...toBob.slice(0, 8), toCarol], read: 'true' });
    assert.deepEqual(await steps(), [11, 13, 3]);
  });

  test('a batch that changes nothing moves no state, and /changes from before it has nothing to tell', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    const [read, trashed, spam] = (await sendMessages(app, ada.id, bob.id, 3)) as [number, number, number];
    const [legacyDeleted] = await app.db
      .insertInto('messages')
      .values({ from_userid: ada.id, to_userid: bob.id, subject: 'old', message: 'm', folder: 'deleted', unread: 'N' })
      .returning('id')
      .execute();
    await update(app, { message_id_list: [read, trashed, spam], read: true });
    await update(app, { message_id_list: [trashed], trash: true });
    await update(app, { message_id_list: [spam], spam: true });
    const before = await foldersState(app, bob.id);
    const adaBefore = await foldersState(app, ada.id);

    for (const payload of [
      { message_id_list: [read], read: true },
      { message_id_list: [trashed], trash: 'true' },
      { message_id_list: [spam], spam: true },
      { message_id_list: [legacyDeleted!.id], trash: true, read: false },
      { message_id_list: [424242, 424243], read: false },
      { message_id_list: [read, trashed, spam], read: 'true' },
    ]) {
      await update(app, payload);
      assert.equal(await foldersState(app, bob.id), before, JSON.stringify(payload));
    }
    assert.equal(await foldersState(app, ada.id), adaBefore);
    assert.deepEqual(await changesSince(app, bob.id, before), { old_state: before, new_state: before, ...nothing });
  });
});

describe('what changed since a state', () => {
  test('a message received and a message sent are created, for the recipient and the sender alike; a message to oneself once', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    const adaState = await foldersState(app, ada.id);
    const bobState = await foldersState(app, bob.id);

    const first = (await sendMessage(app, ada.id, bob.id)).id; // the original endpoint
    const second = (await sendMail(app, bob.id, { to_userid: ada.id, subject: 'Re', message: 'x' })).id; // the mailbox endpoint
    const reply = (await sendMail(app, ada.id, { in_reply_to: second, message: 'a reply' })).id;
    const toSelf = (await sendMail(app, bob.id, { to_userid: bob.id, subject: 'note', message: 'x' })).id;

    const bobChanges = await changesSince(app, bob.id, bobState);
    assert.deepEqual(listsOf(bobChanges), { ...nothing, created: [first, second, reply, toSelf] });
    assert.equal(bobChanges.new_state, await foldersState(app, bob.id));
    const adaChanges = await changesSince(app, ada.id, adaState);
    assert.deepEqual(listsOf(adaChanges), { ...nothing, created: [first, second, reply] });
    assert.equal(adaChanges.new_state, await foldersState(app, ada.id));
    // From the newest state: nothing more.
    assert.deepEqual(await changesSince(app, bob.id, bobChanges.new_state), { old_state: bobChanges.new_state, new_state: bobChanges.new_state, ...nothing });
  });

  test('a message that arrived and was then read, trashed and moved to spam since the state is created only', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    const [old] = await sendMessages(app, ada.id, bob.id, 1);
    const since = await foldersState(app, bob.id);
    const [fresh] = await sendMessages(app, ada.id, bob.id, 1);
    await update(app, { message_id_list: [fresh, old], read: true });
    await update(app, { message_id_list: [fresh], trash: true });
    await update(app, { message_id_list: [fresh], spam: true });
    const toSelf = (await sendMail(app, bob.id, { to_userid: bob.id, subject: 'note', message: 'x' })).id;
    await update(app, { message_id_list: [toSelf], trash: true });
    assert.deepEqual(listsOf(await changesSince(app, bob.id, since)), { ...nothing, created: [fresh, toSelf], updated: [old] });
  });

  test('read, unread, trash, restore, spam and not-spam each make a message updated for its recipient and nothing for its sender', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    const [id, other] = (await sendMessages(app, ada.id, bob.id, 2)) as [number, number];
    const adaState = await foldersState(app, ada.id);
    for (const [flags, folder, unread] of [
      [{ read: 'true' }, 'inbox', 'N'],
      [{ read: 'false' }, 'inbox', 'Y'],
      [{ trash: 'true' }, 'trash', 'Y'],
      [{ trash: 'false' }, 'inbox', 'Y'],
      [{ spam: 'true', read: true }, 'spam', 'N'],
      [{ spam: false }, 'inbox', 'N'],
    ] as const) {
      const { state, copy } = await freshCopy(app, bob.id);
      await update(app, { message_id_list: [id], ...flags });
      const changes = await changesSince(app, bob.id, state);
      assert.deepEqual(listsOf(changes), { ...nothing, updated: [id] }, JSON.stringify(flags));
      assert.equal(stepOf(changes.new_state), stepOf(state) + 1);
      await applyChanges(app, bob.id, copy, changes);
      assert.deepEqual(copy.get(id), { folder, unread });
      assert.deepEqual(copyAsObject(copy), copyAsObject((await freshCopy(app, bob.id)).copy));
    }
    assert.deepEqual(copyAsObject((await freshCopy(app, bob.id)).copy), { [id]: 'inbox/N', [other]: 'inbox/Y' });
    assert.deepEqual(await changesSince(app, ada.id, adaState), { old_state: adaState, new_state: adaState, ...nothing });
  });

  /** Bob's mailbox with two rows from before steps were kept, in the original's sent folder, and one new message. */
  async function withLegacyRows(app: FastifyInstance) {
    const ada = await createUser(app);
    const bob = await createUser(app);
    // Straight into the table: recipient_seq, recipient_created_seq and sender_seq stay NULL.
    const legacy = await app.db
      .insertInto('messages')
      .values([
        { from_userid: ada.id, to_userid: bob.id, subject: 'old, from Ada', message: 'm', folder: 'sent', unread: 'N' },
        { from_userid: bob.id, to_userid: bob.id, subject: 'old, to himself', message: 'm', folder: 'sent', unread: 'N' },
      ])
      .returning(['id', 'recipient_seq', 'recipient_created_seq', 'sender_seq'])
      .execute();
    assert.deepEqual(
      legacy.map(({ recipient_seq, recipient_created_seq, sender_seq }) => [recipient_seq, recipient_created_seq, sender_seq]),
      [
        [null, null, null],
        [null, null, null],
      ],
    );
    const [fromAda, toHimself] = legacy.map((row) => row.id) as [number, number];
    const [mail] = (await sendMessages(app, ada.id, bob.id, 1)) as [number];
    return { bob, fromAda, toHimself, mail };
  }

  test('an old sent-folder row trashed to deleted is destroyed for its recipient; an old one to himself stays his as sent: updated', async (t) => {
    const { app } = await buildTestApp(t);
    const { bob, fromAda, toHimself } = await withLegacyRows(app);
    const state = await foldersState(app, bob.id);

    await update(app, { message_id_list: [fromAda, toHimself], trash: true });
    const folders = await app.db.selectFrom('messages').select('folder').where('id', 'in', [fromAda, toHimself]).orderBy('id').execute();
    assert.deepEqual(folders.map((row) => row.folder), ['deleted', 'deleted']);
    const changes = await changesSince(app, bob.id, state);
    assert.deepEqual(listsOf(changes), { ...nothing, updated: [toHimself], destroyed: [fromAda] });
    assert.equal(stepOf(changes.new_state), stepOf(state) + 1, 'one batch, one step');
    // What the client then sees of them: the one is gone, the other is his as sent.
    assertDetail(await app.inject({ method: 'GET', url: `/users/${bob.id}/messages/${fromAda}` }), 404, 'Message not found');
    assert.deepEqual(pickSide(await readMail(app, bob.id, toHimself)), { folder: 'sent', unread: 'N' });
  });

  test('after a message was destroyed, the copy with the changes applied equals a fresh listing: no listing shows a deleted message', async (t) => {
    const { app } = await buildTestApp(t);
    const { bob, fromAda, toHimself, mail } = await withLegacyRows(app);
    const { state, copy } = await freshCopy(app, bob.id);
    assert.deepEqual(copyAsObject(copy), { [fromAda]: 'sent/N', [toHimself]: 'sent/N', [mail]: 'inbox/Y' });

    await update(app, { message_id_list: [fromAda, toHimself], trash: true });
    await applyChanges(app, bob.id, copy, await changesSince(app, bob.id, state));
    assert.deepEqual(copyAsObject(copy), { [toHimself]: 'sent/N', [mail]: 'inbox/Y' });
    // The README: "A user's mailbox is what they received (any folder but `deleted`) and what they sent".
    assert.deepEqual(copyAsObject((await freshCopy(app, bob.id)).copy), copyAsObject(copy));
  });

  test('25 changes (a batch of ten among them) paged with small limits: every page full but the last, no id twice or missing, the copy equals a fresh listing', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    const carol = await createUser(app);
    const known = await sendMessages(app, ada.id, bob.id, 10);
    const start = await freshCopy(app, bob.id);

    const created: number[] = [];
    for (let index = 0; index < 6; index += 1) created.push((await sendMessage(app, index % 2 ? ada.id : carol.id, bob.id)).id);
    await update(app, { message_id_list: known, read: 'true' }); // ten at one step
    for (let index = 0; index < 5; index += 1) created.push((await sendMail(app, bob.id, { to_userid: ada.id, subject: `#${index}`, message: 'x' })).id);
    await update(app, { message_id_list: created.slice(0, 3), trash: true }); // still created only
    for (let index = 0; index < 4; index += 1) created.push((await sendMessage(app, ada.id, bob.id)).id);
    const expected = { created: [...created], updated: [...known], destroyed: [] as number[] };
    const current = await foldersState(app, bob.id);

    const whole = await changesSince(app, bob.id, start.state, 1000);
    assert.deepEqual(sortedLists(whole), sortedLists(expected));
    assert.equal(whole.has_more_changes, false);
    const everyId = [...created, ...known].sort((a, b) => a - b);
    assert.equal(whole.new_state, current);

    for (const limit of [1, 3, 4, 7, 10, 24, 25]) {
      let since = start.state;
      const seen = { created: [] as number[], updated: [] as number[], destroyed: [] as number[] };
      const copy = new Map(start.copy);
      for (let pages = 1; ; pages += 1) {
        assert.ok(pages <= 25, `limit ${limit}: paging does not end`);
        const page = await changesSince(app, bob.id, since, limit);
        const count = page.created.length + page.updated.length + page.destroyed.length;
        seen.created.push(...page.created);
        seen.updated.push(...page.updated);
        seen.destroyed.push(...page.destroyed);
        await applyChanges(app, bob.id, copy, page);
        // Asked again from the same state, the same page (nothing changed meanwhile).
        assert.deepEqual(await changesSince(app, bob.id, since, limit), page);
        if (!page.has_more_changes) {
          assert.equal(page.new_state, current, `limit ${limit}: the last page ends at the current state`);
          break;
        }
        assert.equal(count, limit, `limit ${limit}: a page with more to come is full`);
        since = page.new_state;
      }
      // Together, the pages hold every id once: never repeated (the list would be longer), none missing.
      assert.deepEqual([...seen.created, ...seen.updated, ...seen.destroyed].sort((a, b) => a - b), everyId, `limit ${limit}`);
      assert.deepEqual(copyAsObject(copy), copyAsObject((await freshCopy(app, bob.id)).copy), `limit ${limit}`);
    }

    // In (step, id) order: three of the first six messages (the other three moved on to the trash step), then the batch
    // of ten at one step. Limit 4 cuts that step three times: after its first, fifth and ninth message.
    const batchStep = stepOf(start.state) + 7;
    let since = start.state;
    const cuts: { seq: number; afterId: number }[] = [];
    for (;;) {
      const page = await changesSince(app, bob.id, since, 4);
      if (!page.has_more_changes) break;
      const { seq, afterId } = decodeState(page.new_state);
      cuts.push({ seq, afterId });
      since = page.new_state;
    }
    assert.deepEqual(
      cuts.filter((cut) => cut.seq === batchStep),
      [
        { seq: batchStep, afterId: known[0]! },
        { seq: batchStep, afterId: known[4]! },
        { seq: batchStep, afterId: known[8]! },
      ],
    );
  });

  test('paging on while mail keeps changing: a message that arrived after the state is created, even when it changed again before its page was read', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    const start = await freshCopy(app, bob.id);
    const ids = await sendMessages(app, ada.id, bob.id, 12); // steps 1 to 12, one message each
    const first = await changesSince(app, bob.id, start.state, 5);
    assert.deepEqual(listsOf(first), { ...nothing, created: ids.slice(0, 5), has_more_changes: true });
    assert.deepEqual(decodeState(first.new_state), { tag: app.mailboxEvents.tag, seq: 5, afterId: ids[4], base: 0 });

    // Before the client asks for its next page: two messages it has are read, two it has not seen yet go to spam.
    await update(app, { message_id_list: ids.slice(0, 2), read: true });
    await update(app, { message_id_list: ids.slice(8, 10), spam: true });
    const later = await sendMessages(app, ada.id, bob.id, 1);
    // The spam step moved 9 and 10 past 11 and 12 in step order.
    const second = await changesSince(app, bob.id, first.new_state, 5);
    assert.deepEqual(listsOf(second), { ...nothing, created: [...ids.slice(5, 8), ...ids.slice(10, 12)], has_more_changes: true });
    // 9 and 10 arrived after the state the client began paging from and were never told: they are created, never
    // "updated" (messages the client has). 1 and 2 arrived after it too: whether an earlier page told them cannot be
    // known from the rows (a message that changes moves to a later step), so they come as created again: the client
    // fetches them once more, which is safe; an updated id the client lacks would not be.
    const third = await changesSince(app, bob.id, second.new_state, 5);
    assert.deepEqual(listsOf(third), { ...nothing, created: [...ids.slice(0, 2), ...ids.slice(8, 10), ...later] });
    assert.equal(third.new_state, await foldersState(app, bob.id));
  });
});

describe('refusals', () => {
  const invalidState = '{"detail":[{"loc":["query","since"],"msg":"invalid state","type":"value_error.state"}]}';

  test('a malformed since is a 422 at ["query","since"]: random text, base64 of anything else, a near miss, too long', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    await sendMessage(app, ada.id, bob.id);
    const state = await foldersState(app, bob.id);
    const { tag } = decodeState(state);
    const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
    const malformed = [
      '',
      'not a state',
      'hello',
      '!!!!',
      base64('garbage'),
      base64(`${tag}.1`), // a part missing
      base64(`${tag}.01.0`), // not the one spelling of step 1
      base64(`${tag}.1.0.`),
      base64(`ZZZZZZZZ.1.0`), // not a tag
      base64(`${tag.slice(0, 7)}.1.0`),
      base64(`${tag}.-1.0`),
      base64(`${tag}.99999999999999999.0`), // past the safe integers
      `${state}=`,
      `${state}==`,
      `${state}.`,
      'A'.repeat(65),
      `${state}${'A'.repeat(65 - state.length)}`,
    ];
    for (const since of malformed) {
      const response = await getChanges(app, bob.id, `?since=${encodeURIComponent(since)}`);
      assert.equal(response.statusCode, 422, `${JSON.stringify(since)}: ${response.body}`);
      assert.equal(response.body, invalidState, JSON.stringify(since));
    }
    // The same state, spelled as issued, answers.
    assert.equal((await getChanges(app, bob.id, `?since=${state}`)).statusCode, 200);
  });

  for (const [query, body] of [
    ['?limit=0', '{"detail":[{"loc":["query","limit"],"msg":"ensure this value is greater than or equal to 1","type":"value_error.number.not_ge","ctx":{"limit_value":1}}]}'],
    ['?limit=1001', '{"detail":[{"loc":["query","limit"],"msg":"ensure this value is less than or equal to 1000","type":"value_error.number.not_le","ctx":{"limit_value":1000}}]}'],
    ['?limit=ten', '{"detail":[{"loc":["query","limit"],"msg":"value is not a valid integer","type":"type_error.integer"}]}'],
  ] as const) {
    test(`GET /users/{id}/changes${query} (with a valid since) is a 422 at ["query","limit"]`, async (t) => {
      const { app } = await buildTestApp(t);
      const bob = await createUser(app);
      const state = await foldersState(app, bob.id);
      const response = await getChanges(app, bob.id, `?since=${state}&${query.slice(1)}`);
      assert.equal(response.statusCode, 422);
      assert.equal(response.body, body);
    });
  }

  test('limits 1 and 1000 are accepted', async (t) => {
    const { app } = await buildTestApp(t);
    const bob = await createUser(app);
    const state = await foldersState(app, bob.id);
    for (const limit of [1, 1000]) assert.deepEqual(await changesSince(app, bob.id, state, limit), { old_state: state, new_state: state, ...nothing });
  });

  test('a state of another database is a 410 {"detail":"Cannot calculate changes"}: the client reloads', async (t) => {
    const { app } = await buildTestApp(t);
    const { app: other } = await buildTestApp(t);
    const [ada, bob] = [await createUser(app), await createUser(app)];
    const [otherAda, otherBob] = [await createUser(other), await createUser(other)];
    assert.equal(otherBob.id, bob.id, 'the same user id in both databases');
    await sendMessage(app, ada.id, bob.id);
    await sendMessage(other, otherAda.id, otherBob.id);
    const foreign = await foldersState(other, otherBob.id);
    assert.equal(foreign, encodeState(other.mailboxEvents.tag, wholeStep(1)));
    assert.notEqual(other.mailboxEvents.tag, app.mailboxEvents.tag, 'two databases, two tags');
    assert.equal(stepOf(foreign), stepOf(await foldersState(app, bob.id)), 'the same step, told apart only by the database');

    assertDetail(await getChanges(app, bob.id, `?since=${foreign}`), 410, 'Cannot calculate changes');
    // An older step of the other database too, and a state in the middle of a page.
    for (const state of [wholeStep(0), { seq: 1, afterId: 5, base: 0 }]) {
      assertDetail(await getChanges(app, bob.id, `?since=${encodeState(other.mailboxEvents.tag, state)}`), 410, 'Cannot calculate changes');
    }
    assert.equal((await getChanges(other, otherBob.id, `?since=${foreign}`)).statusCode, 200, 'its own database answers it');
  });

  test('a state ahead of this database (one restored from an older backup) is a 410; the current step answers', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    const bob = await createUser(app);
    await sendMessages(app, ada.id, bob.id, 3);
    const seq = stepOf(await foldersState(app, bob.id));
    assert.equal(seq, 3);
    const tag = app.mailboxEvents.tag;
    for (const ahead of [seq + 5, seq + 1]) {
      assertDetail(await getChanges(app, bob.id, `?since=${encodeState(tag, wholeStep(ahead))}`), 410, 'Cannot calculate changes', `step ${ahead}`);
    }
    // A user who never had mail is at step 0: step 1 is ahead.
    const carol = await createUser(app);
    assertDetail(await getChanges(app, carol.id, `?since=${encodeState(tag, wholeStep(1))}`), 410, 'Cannot calculate changes');
    const current = encodeState(tag, wholeStep(seq));
    assert.deepEqual(await changesSince(app, bob.id, current), { old_state: current, new_state: current, ...nothing });
    // A state in the middle of the current step is not ahead.
    const inside = encodeState(tag, { seq, afterId: 1, base: 0 });
    assert.equal((await changesSince(app, bob.id, inside)).new_state, current);
  });

  test('unknown user: 404 {"detail":"User not found"}, with or without since', async (t) => {
    const { app } = await buildTestApp(t);
    const bob = await createUser(app);
    const state = await foldersState(app, bob.id);
    assertDetail(await getChanges(app, 424242), 404, 'User not found');
    assertDetail(await getChanges(app, 424242, `?since=${state}`), 404, 'User not found');
  });

  test('AUTH_MODE=required: the owner follows their changes; another user’s token is a 403, no token a 401', async (t) => {
    const { app } = await buildTestApp(t, authEnv('required'));
    const ada = await account(app);
    const bob = await account(app);
    const since = await foldersState(app, bob.user.id, bob.headers);
    const toBob = await sendAs(app, ada, bob.user.id, 'for bob');
    const response = await getChanges(app, bob.user.id, `?since=${since}`, bob.headers);
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json<ChangesBody>().created, [toBob.id]);

    for (const query of ['', `?since=${since}`, `?since=${since}&limit=1`]) {
      assertDetail(await getChanges(app, bob.user.id, query, ada.headers), 403, 'Not allowed', query);
      assertDetail(await getChanges(app, 424242, query, ada.headers), 403, 'Not allowed', query);
      assertNotAuthenticated(await getChanges(app, bob.user.id, query));
    }
    // Counts carry the state for their owner only.
    const counts = await app.inject({ method: 'GET', url: `/users/${bob.user.id}/folders`, headers: ada.headers });
    assert.equal(counts.statusCode, 403);
    assert.equal(counts.headers['mailbox-state'], undefined);
  });
});
