/**
 * Migration 0005 (conversations: created_at, threads, search) over a database of the previous
 * release with data in it: nothing is lost, old messages read as they did through the contract,
 * show up in the mailbox views with no time and a thread of their own, are found by search, can be
 * answered, and migrating again changes nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { createDatabase } from '../../src/db/create-db.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createTestStorage, startTestApp } from '../helpers/build-test-app.js';
import { testDatabaseUrl } from '../helpers/services.js';

/** The previous release's tables, as it wrote them (no created_at, thread_id, in_reply_to). */
interface LegacyDatabase {
  users: { id?: number; email: string; email_key: string; hashed_password: string; is_active?: number };
  messages: { id?: number; from_userid: number; to_userid: number; subject: string; message: string; folder: string; unread: string };
  spam_reports: { reporter_id: number; sender_id: number; reported_at: number };
  spam_counters: { sender_id: number; reporters: number; version: number; expires_at: number };
}

type LegacyMessage = { id: number; from_userid: number; to_userid: number; subject: string; message: string; folder: string; unread: string };

interface MailboxMessage extends LegacyMessage {
  created_at: string | null;
  thread_id: number;
  in_reply_to: number | null;
  from_email: string;
  to_email: string;
}

const CONTRACT_KEYS = ['id', 'from_userid', 'to_userid', 'subject', 'message', 'folder', 'unread'];
const MAILBOX_KEYS = [...CONTRACT_KEYS, 'created_at', 'thread_id', 'in_reply_to', 'from_email', 'to_email'];
const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PREVIOUS_RELEASE = ['0001-initial', '0002-mailbox-indexes', '0003-email-key', '0004-database-generation'];

function assertMailboxShape(message: MailboxMessage, context: string): void {
  assert.deepEqual(Object.keys(message), MAILBOX_KEYS, `${context}: the mailbox message's keys, in order`);
}

test('a database of the previous release upgrades to 0005 with nothing lost: old mail lists, reads, is found and answered', async (t) => {
  const storage = await createTestStorage(t);
  const dir = mkdtempSync(join(tmpdir(), 'inbox-migration-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const url = testDatabaseUrl() ?? `sqlite:${join(dir, 'inbox.db')}`;
  const { db, dialect } = createDatabase(url, storage.databaseSchema ? { schema: storage.databaseSchema } : {});
  t.after(() => db.destroy());

  // ---- The previous release's database, with data in it. ----
  await migrateToLatest(db, dialect, { upTo: '0004-database-generation' });
  const legacy = db as unknown as Kysely<LegacyDatabase>;
  const userRows = [
    { email: 'ada@example.com', email_key: 'ada@example.com', hashed_password: '$argon2id$v=19$m=19456,t=2,p=1$legacy$ada' },
    { email: 'bob@example.com', email_key: 'bob@example.com', hashed_password: '$argon2id$v=19$m=19456,t=2,p=1$legacy$bob' },
    { email: 'Carol.Ü@Example.com', email_key: 'carol.ü@example.com', hashed_password: '$argon2id$v=19$m=19456,t=2,p=1$legacy$carol' },
  ];
  const [ada, bob, carol] = (await legacy.insertInto('users').values(userRows).returning('id').execute()).map((row) => row.id!) as [number, number, number];
  const emailOf = new Map([
    [ada, userRows[0]!.email],
    [bob, userRows[1]!.email],
    [carol, userRows[2]!.email],
  ]);

  const sent = [
    { from_userid: bob, to_userid: ada, subject: 'Réunion budgétaire jeudi', message: 'Bonjour Ada, la réunion est déplacée à 15h. Apportez les chiffres.', folder: 'inbox', unread: 'Y' },
    { from_userid: carol, to_userid: ada, subject: 'Lunch tomorrow?', message: 'The café on the corner makes a great crème brûlée.', folder: 'inbox', unread: 'N' },
    { from_userid: bob, to_userid: ada, subject: 'Old newsletter', message: 'Unsubscribe whenever you like.', folder: 'trash', unread: 'N' },
    { from_userid: carol, to_userid: ada, subject: 'WIN a FREE cruise', message: 'Click here to claim your prize!!!', folder: 'spam', unread: 'Y' },
    { from_userid: bob, to_userid: ada, subject: 'Vanished note', message: 'Kept in the table, gone from the mailbox.', folder: 'deleted', unread: 'N' },
    { from_userid: ada, to_userid: bob, subject: 'Quarterly figures', message: 'Here are the figures you asked for: zebrafish counts.', folder: 'inbox', unread: 'Y' },
    { from_userid: ada, to_userid: carol, subject: 'Garden party', message: 'Bring the lemonade, please.', folder: 'inbox', unread: 'N' },
    { from_userid: bob, to_userid: carol, subject: 'Hello Carol', message: 'Long time no see.', folder: 'trash', unread: 'Y' },
    { from_userid: ada, to_userid: ada, subject: 'Note to self', message: 'Buy oranges and a notebook.', folder: 'inbox', unread: 'Y' },
    { from_userid: carol, to_userid: ada, subject: 'Naïve question', message: 'Why is the sky blue?', folder: 'inbox', unread: 'Y' },
  ];
  const messageIds = (await legacy.insertInto('messages').values(sent).returning('id').execute()).map((row) => row.id!);
  const old: LegacyMessage[] = sent.map((row, index) => ({ id: messageIds[index]!, ...row }));
  const oldById = new Map(old.map((message) => [message.id, message]));
  const byIndex = (index: number) => old[index]!;
  const reportedAt = Date.now() - 60_000;
  await legacy.insertInto('spam_reports').values({ reporter_id: ada, sender_id: carol, reported_at: reportedAt }).execute();
  await legacy.insertInto('spam_counters').values({ sender_id: carol, reporters: 1, version: 1, expires_at: reportedAt + 7 * 86_400_000 }).execute();
  const usersBefore = await legacy.selectFrom('users').selectAll().orderBy('id').execute();
  const spamBefore = {
    reports: await legacy.selectFrom('spam_reports').selectAll().execute(),
    counters: await legacy.selectFrom('spam_counters').selectAll().execute(),
  };

  // ---- The upgrade, then the service on the upgraded database. ----
  await migrateToLatest(db, dialect);
  const appliedNames = async () => (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)).rows.map((row) => row.name);
  assert.deepEqual((await appliedNames()).slice(0, PREVIOUS_RELEASE.length + 1), [...PREVIOUS_RELEASE, '0005-conversations']);

  const app = await startTestApp(t, { ...storage, env: { ...storage.env, DATABASE_URL: url } });
  const get = async <T>(path: string): Promise<T> => {
    const response = await app.inject({ method: 'GET', url: path });
    assert.equal(response.statusCode, 200, `GET ${path}: ${response.body}`);
    return response.json<T>();
  };

  // The views of an old message: created_at null, a thread of its own, answering nothing.
  const legacyExtras = (message: LegacyMessage) => ({
    created_at: null,
    thread_id: message.id,
    in_reply_to: null,
    from_email: emailOf.get(message.from_userid)!,
    to_email: emailOf.get(message.to_userid)!,
  });
  const recipientView = (message: LegacyMessage): MailboxMessage => ({ ...message, ...legacyExtras(message) });
  const senderView = (message: LegacyMessage): MailboxMessage => ({ ...message, folder: 'sent', unread: 'N', ...legacyExtras(message) });

  await t.test('every old row is still in the tables, unchanged', async () => {
    assert.deepEqual(await legacy.selectFrom('users').selectAll().orderBy('id').execute(), usersBefore);
    const stored = await legacy.selectFrom('messages').select(['id', 'from_userid', 'to_userid', 'subject', 'message', 'folder', 'unread']).orderBy('id').execute();
    assert.deepEqual(stored, old);
    assert.deepEqual(await legacy.selectFrom('spam_reports').selectAll().execute(), spamBefore.reports);
    assert.deepEqual(await legacy.selectFrom('spam_counters').selectAll().execute(), spamBefore.counters);
  });

  await t.test('GET /msg/list/ answers every old message in the contract’s seven keys, values unchanged', async () => {
    const listed = await get<LegacyMessage[]>('/msg/list/?limit=100');
    for (const message of listed) assert.deepEqual(Object.keys(message), CONTRACT_KEYS, `message ${message.id}: the contract's keys`);
    assert.deepEqual(listed, old);
  });

  await t.test('the mailbox views show old messages with created_at null, their own thread, no in_reply_to, both addresses', async () => {
    const received = await get<{ messages: MailboxMessage[]; next_cursor: string | null }>(`/users/${ada}/messages?limit=200`);
    assert.equal(received.next_cursor, null);
    for (const message of received.messages) {
      assertMailboxShape(message, `received ${message.id}`);
      const original = oldById.get(message.id);
      assert.ok(original && original.to_userid === ada, `message ${message.id} is not one Ada received`);
      assert.deepEqual(message, recipientView(original));
    }
    // Every received message that is not deleted, newest first (a deleted one may or may not be listed, as before).
    const expectedIds = old.filter((message) => message.to_userid === ada && message.folder !== 'deleted').map((message) => message.id).reverse();
    assert.deepEqual(received.messages.map((message) => message.id).filter((id) => oldById.get(id)!.folder !== 'deleted'), expectedIds);

    const inbox = await get<{ messages: MailboxMessage[] }>(`/users/${ada}/messages?folder=inbox&unread=true`);
    assert.deepEqual(
      inbox.messages,
      old.filter((message) => message.to_userid === ada && message.folder === 'inbox' && message.unread === 'Y').reverse().map(recipientView),
    );

    const sentView = await get<{ messages: MailboxMessage[]; next_cursor: string | null }>(`/users/${ada}/messages?folder=sent`);
    sentView.messages.forEach((message) => assertMailboxShape(message, `sent ${message.id}`));
    assert.deepEqual(sentView.messages, old.filter((message) => message.from_userid === ada).reverse().map(senderView));
    assert.equal(sentView.next_cursor, null);

    // One message, from either side; reading it changes nothing.
    const first = byIndex(0);
    const asRecipient = await get<MailboxMessage>(`/users/${ada}/messages/${first.id}`);
    assertMailboxShape(asRecipient, 'one message');
    assert.deepEqual(asRecipient, recipientView(first));
    assert.deepEqual(await get<MailboxMessage>(`/users/${bob}/messages/${first.id}`), senderView(first));
    const elsewhere = await app.inject({ method: 'GET', url: `/users/${carol}/messages/${first.id}` });
    assert.equal(elsewhere.statusCode, 404);
    assert.deepEqual(elsewhere.json(), { detail: 'Message not found' });
    const deleted = await app.inject({ method: 'GET', url: `/users/${ada}/messages/${byIndex(4).id}` });
    assert.equal(deleted.statusCode, 404, 'a deleted message is not in the mailbox');
    assert.equal((await get<MailboxMessage>(`/users/${ada}/messages/${first.id}`)).unread, 'Y');

    // An old message's thread is itself.
    assert.deepEqual(await get(`/users/${ada}/threads/${byIndex(1).id}`), { thread_id: byIndex(1).id, messages: [recipientView(byIndex(1))] });
  });

  await t.test('GET /users/{id}/folders counts the old messages as inserted', async () => {
    assert.deepEqual(await get(`/users/${ada}/folders`), [
      { folder: 'inbox', total: 4, unread: 3 },
      { folder: 'trash', total: 1, unread: 0 },
      { folder: 'spam', total: 1, unread: 1 },
      { folder: 'sent', total: 3, unread: 0 },
    ]);
    assert.deepEqual(await get(`/users/${carol}/folders`), [
      { folder: 'inbox', total: 1, unread: 0 },
      { folder: 'trash', total: 1, unread: 1 },
      { folder: 'spam', total: 0, unread: 0 },
      { folder: 'sent', total: 3, unread: 0 },
    ]);
  });

  const search = async (userId: number, q: string, extra = '') =>
    (await get<{ messages: MailboxMessage[] }>(`/users/${userId}/messages?q=${encodeURIComponent(q)}${extra}`)).messages;
  const ids = (messages: MailboxMessage[]) => messages.map((message) => message.id);

  await t.test('old messages are found by search: subject and body words, any case and accents, the last word as a prefix', async () => {
    const meeting = byIndex(0);
    assert.deepEqual(await search(ada, 'reunion'), [recipientView(meeting)], 'subject word without its accent');
    assert.deepEqual(ids(await search(ada, 'RÉUNION')), [meeting.id], 'subject word in capitals with its accent');
    assert.deepEqual(ids(await search(ada, 'budgetaire jeudi')), [meeting.id], 'two subject words');
    assert.deepEqual(ids(await search(ada, 'chiffres')), [meeting.id], 'a body word');
    assert.deepEqual(ids(await search(ada, 'DÉPLACÉE')), [meeting.id], 'a body word in capitals with its accents');
    assert.deepEqual(ids(await search(ada, 'creme brulee')), [byIndex(1).id], 'body words stored with accents, searched without');
    assert.deepEqual(ids(await search(ada, 'café')), [byIndex(1).id], 'a body word searched with its accent');
    assert.deepEqual(ids(await search(ada, 'corner ma')), [byIndex(1).id], 'the last word as a prefix ("ma" of "makes")');
    assert.deepEqual(ids(await search(ada, 'naive')), [byIndex(9).id], 'ï searched as i');
    assert.deepEqual(ids(await search(ada, 'cruise', '&folder=spam')), [byIndex(3).id], 'combined with folder');
    assert.deepEqual(ids(await search(ada, 'cruise', '&folder=inbox')), [], 'not in another folder');
    assert.deepEqual(ids(await search(ada, 'lunch', '&unread=false')), [byIndex(1).id], 'combined with unread');
    assert.deepEqual(ids(await search(ada, 'lunch', '&unread=true')), []);
    assert.deepEqual(await search(ada, 'zebrafish', '&folder=sent'), [senderView(byIndex(5))], "an old message in the sender's sent view");
    assert.deepEqual(await search(bob, 'reunion', '&folder=sent'), [senderView(meeting)]);
    assert.deepEqual(ids(await search(carol, 'reunion')), [], "another user's mail is not found");
    assert.deepEqual(ids(await search(ada, 'reunion nowhere')), [], 'every word must match');
  });

  const before = Date.now();
  let replyId = 0;
  let answerId = 0;
  await t.test('a reply to an old message joins its thread; new messages get created_at', async () => {
    const meeting = byIndex(0);
    const response = await app.inject({ method: 'POST', url: `/users/${ada}/messages`, payload: { in_reply_to: meeting.id, message: 'Merci Bob, je serai là.' } });
    assert.equal(response.statusCode, 201, response.body);
    const reply = response.json<MailboxMessage>();
    assertMailboxShape(reply, 'the reply');
    replyId = reply.id;
    assert.ok(!oldById.has(reply.id), 'a new id');
    assert.match(reply.created_at ?? '', ISO_MILLIS);
    const createdAt = Date.parse(reply.created_at!);
    assert.ok(createdAt >= before - 1000 && createdAt <= Date.now() + 1000, `created_at ${reply.created_at} is now`);
    assert.deepEqual(reply, {
      id: reply.id,
      from_userid: ada,
      to_userid: bob,
      subject: 'Re: Réunion budgétaire jeudi',
      message: 'Merci Bob, je serai là.',
      folder: 'sent',
      unread: 'N',
      created_at: reply.created_at,
      thread_id: meeting.id,
      in_reply_to: meeting.id,
      from_email: emailOf.get(ada),
      to_email: emailOf.get(bob),
    });
    const inBobsView = { ...reply, folder: 'inbox', unread: 'Y' };

    assert.deepEqual(await get(`/users/${ada}/threads/${meeting.id}`), { thread_id: meeting.id, messages: [recipientView(meeting), reply] });
    assert.deepEqual(await get(`/users/${bob}/threads/${meeting.id}`), { thread_id: meeting.id, messages: [senderView(meeting), inBobsView] });

    // Bob answers the reply: same thread, no "Re: Re:".
    const second = await app.inject({ method: 'POST', url: `/users/${bob}/messages`, payload: { in_reply_to: reply.id, message: 'Parfait.' } });
    assert.equal(second.statusCode, 201, second.body);
    const answer = second.json<MailboxMessage>();
    answerId = answer.id;
    assert.equal(answer.thread_id, meeting.id);
    assert.equal(answer.in_reply_to, reply.id);
    assert.equal(answer.to_userid, ada);
    assert.equal(answer.subject, 'Re: Réunion budgétaire jeudi');
    assert.match(answer.created_at ?? '', ISO_MILLIS);
    const thread = await get<{ thread_id: number; messages: MailboxMessage[] }>(`/users/${ada}/threads/${meeting.id}`);
    assert.deepEqual(ids(thread.messages), [meeting.id, reply.id, answer.id]);

    // A message through the contract's endpoint also gets a time, and starts its own thread.
    const created = await app.inject({ method: 'POST', url: '/msg/create/', payload: { from_userid: carol, to_userid: ada, subject: 'Fresh', message: 'Just now.' } });
    assert.equal(created.statusCode, 200, created.body);
    assert.deepEqual(Object.keys(created.json()), CONTRACT_KEYS);
    const fresh = await get<MailboxMessage>(`/users/${ada}/messages/${created.json<{ id: number }>().id}`);
    assert.match(fresh.created_at ?? '', ISO_MILLIS);
    assert.equal(fresh.thread_id, fresh.id);
    assert.equal(fresh.in_reply_to, null);

    // New messages are searchable beside the old ones.
    assert.deepEqual(ids(await search(ada, 'merci', '&folder=sent')), [reply.id]);
    assert.deepEqual(ids(await search(ada, 'reunion')), [answer.id, meeting.id], 'newest first: the answer (its subject) and the old message');

    assert.deepEqual(await get(`/users/${ada}/folders`), [
      { folder: 'inbox', total: 6, unread: 5 },
      { folder: 'trash', total: 1, unread: 0 },
      { folder: 'spam', total: 1, unread: 1 },
      { folder: 'sent', total: 4, unread: 0 },
    ]);
  });

  await t.test('migrating again is a no-op: same migrations, same data, same search results', async () => {
    const tablesBefore = await legacy.selectFrom('messages').selectAll().orderBy('id').execute();
    await migrateToLatest(db, dialect);
    assert.deepEqual((await appliedNames()).slice(0, PREVIOUS_RELEASE.length + 1), [...PREVIOUS_RELEASE, '0005-conversations']);
    assert.deepEqual(await legacy.selectFrom('messages').selectAll().orderBy('id').execute(), tablesBefore);
    const listed = await get<LegacyMessage[]>('/msg/list/?limit=100');
    assert.deepEqual(listed.slice(0, old.length), old);
    assert.deepEqual(ids(await search(ada, 'reunion')), [answerId, byIndex(0).id], 'each message found once');
    assert.deepEqual(ids(await search(ada, 'merci', '&folder=sent')), [replyId]);
    // A second instance starting on the upgraded database migrates nothing and serves the same.
    const again: FastifyInstance = await startTestApp(t, { ...storage, env: { ...storage.env, DATABASE_URL: url } });
    const response = await again.inject({ method: 'GET', url: `/users/${ada}/messages?q=chiffres` });
    assert.deepEqual(response.json<{ messages: MailboxMessage[] }>().messages, [recipientView(byIndex(0))]);
  });
});
