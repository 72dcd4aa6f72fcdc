/**
 * PostgreSQL (a cluster of the test's own) stopped for a few seconds under steady writes
 * (`pg_ctl stop -m fast`, which terminates every connection "due to administrator command") and
 * started again: the service process stays up, answers 503 with Retry-After meanwhile (quickly,
 * never 500), heals without a restart, and every write it acknowledged is in the database afterwards.
 * Also: an instance started before its database waits for it; a hung server costs a request at
 * most DATABASE_TIMEOUT_MS (plus a margin), not forever.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type PrivatePostgres, privatePostgres, privatePostgresUnavailable } from '../helpers/private-postgres.js';
import { postJson, startService } from '../helpers/service-process.js';
import { eventually, SQLITE_PASS_ONLY } from '../helpers/services.js';

const DATABASE_TIMEOUT_MS = 1500;
/** how long any answer may take, outage or not */
const ANSWER_LIMIT_MS = DATABASE_TIMEOUT_MS + 1000;
const OUTAGE_MS = 3000;
/** pause between two requests of one loop: steady traffic that leaves the 2 cores some room */
const PAUSE_MS = 15;
const BATCHES_PER_LOOP = 400;
const IDS_PER_BATCH = 2;
const CREATES_PER_LOOP = 600;

interface Answer {
  kind: string;
  status: number;
  ms: number;
  at: number;
  body: unknown;
  retryAfter: string | null;
}

/** One request, timed; a connection failure is status 0 (the service process is gone or hung). */
async function send(url: string, method: string, kind: string, payload?: unknown): Promise<Answer> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method,
      ...(payload === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text
    }
    return { kind, status: response.status, ms: Date.now() - started, at: started, body, retryAfter: response.headers.get('retry-after') };
  } catch (error) {
    return { kind, status: 0, ms: Date.now() - started, at: started, body: String(error), retryAfter: null };
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgreSQL going away and coming back', { skip: SQLITE_PASS_ONLY || privatePostgresUnavailable() }, () => {
  let postgres: PrivatePostgres;
  before(async () => {
    postgres = await privatePostgres();
  });
  after(() => postgres?.remove());

  test('stopped for a few seconds under steady writes, the service stays up, answers 503 meanwhile, heals and loses no acknowledged write', { timeout: 120_000 }, async (t) => {
    const service = await startService({
      DATABASE_URL: postgres.url,
      REDIS_URL: '',
      DATABASE_TIMEOUT_MS: String(DATABASE_TIMEOUT_MS),
      RATE_LIMIT_MESSAGES_PER_MINUTE: '0',
    });
    t.after(() => service.child.kill('SIGKILL'));

    const user = async (name: string) =>
      (await postJson(`${service.url}/users/`, { email: `${name}-${Date.now()}@example.com`, password: 'password-1' })).body as { id: number };
    const sender = await user('sender');
    const recipient = await user('recipient');
    const client = new pg.Client({ connectionString: postgres.url });
    // Messages for the batch loops, each listed in exactly one batch; made in one statement to save time.
    await client.connect();
    const seeded = await client.query<{ id: string }>(
      `insert into messages (from_userid, to_userid, subject, message)
       select $1, $2, 'seed-' || g, 'x' from generate_series(1, $3::int) g returning id`,
      [sender.id, recipient.id, 2 * BATCHES_PER_LOOP * IDS_PER_BATCH],
    );
    await client.end();
    const seededIds = seeded.rows.map((row) => Number(row.id)).sort((a, b) => a - b);
    const batchesOf = (loop: number) =>
      Array.from({ length: BATCHES_PER_LOOP }, (_, index) => {
        const start = (loop * BATCHES_PER_LOOP + index) * IDS_PER_BATCH;
        return seededIds.slice(start, start + IDS_PER_BATCH);
      });

    // Two loops create, two update (one reports spam and marks read, one moves to trash); every answer is kept.
    const answers: Answer[] = [];
    const acknowledgedCreates: { id: number; subject: string }[] = [];
    const batches: { ids: number[]; target: string; acknowledged: boolean }[] = [];
    let stop = false;
    const hardStop = Date.now() + 60_000;
    const running = () => !stop && Date.now() < hardStop;
    const createLoop = async (loop: number) => {
      for (let index = 0; index < CREATES_PER_LOOP && running(); index += 1) {
        const subject = `c${loop}-${index}`;
        const answer = await send(`${service.url}/msg/create/`, 'POST', 'create', { from_userid: sender.id, to_userid: recipient.id, subject, message: 'm' });
        answers.push(answer);
        if (answer.status === 200) acknowledgedCreates.push({ id: (answer.body as { id: number }).id, subject });
        await pause(PAUSE_MS);
      }
    };
    const updateLoop = async (loop: number, flags: Record<string, string>, target: string) => {
      for (const ids of batchesOf(loop)) {
        if (!running()) break;
        const answer = await send(`${service.url}/msg/list/`, 'PUT', 'update', { message_id_list: ids, ...flags });
        answers.push(answer);
        batches.push({ ids, target, acknowledged: answer.status === 200 });
        await pause(PAUSE_MS);
      }
    };
    const traffic = Promise.all([createLoop(0), createLoop(1), updateLoop(0, { spam: 'true', read: 'true' }, 'spam/N'), updateLoop(1, { trash: 'true' }, 'trash/Y')]);

    await pause(800);
    const stoppedAt = Date.now();
    await postgres.stop();
    const downAt = Date.now();
    const readinessDuringOutage: Answer[] = [];
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      readinessDuringOutage.push(await send(`${service.url}/readyz`, 'GET', 'readyz'));
      await pause(250);
    }
    const restartedAt = Date.now();
    await postgres.start();
    const backAt = Date.now();
    const healed = (kind: string) => answers.some((answer) => answer.kind === kind && answer.at >= backAt && answer.status === 200);
    await eventually(
      async () => {
        if (service.child.exitCode !== null || service.child.signalCode !== null) throw new Error(`the service exited: ${service.output()}`);
        return healed('create') && healed('update');
      },
      15_000,
      'writes succeeding again after the restart',
    );
    await pause(500);
    stop = true;
    await traffic;
    const readinessAfter = await send(`${service.url}/readyz`, 'GET', 'readyz');

    const outage = answers.filter((answer) => answer.status === 503);
    const slowest = Math.max(...answers.map((answer) => answer.ms));
    t.diagnostic(
      `${answers.length} answers: ${answers.filter((a) => a.status === 200).length} × 200, ${outage.length} × 503; ` +
        `slowest ${slowest} ms; pg_ctl stop took ${downAt - stoppedAt} ms, start ${backAt - restartedAt} ms; ` +
        `healed ${Math.min(...answers.filter((a) => a.at >= backAt && a.status === 200).map((a) => a.at)) - backAt} ms after the start`,
    );

    // The process stayed up: no unhandled 'error' from a terminated connection.
    assert.equal(service.child.exitCode, null, service.output());
    assert.equal(service.child.signalCode, null);
    assert.doesNotMatch(service.output(), /"level":(50|60)/, 'no error or fatal log lines');

    // Every answer was a 200 or a proper 503, and none took long.
    const unexpected = answers.filter((answer) => answer.status !== 200 && answer.status !== 503);
    assert.deepEqual(unexpected, [], 'only 200 and 503 answers');
    assert.ok(outage.length > 0, 'some requests met the outage');
    for (const answer of outage) {
      assert.deepEqual(answer.body, { detail: 'Service unavailable' });
      assert.match(answer.retryAfter ?? '', /^[1-9]\d*$/, 'a 503 says when to retry');
    }
    assert.ok(slowest < ANSWER_LIMIT_MS, `the slowest answer took ${slowest} ms`);
    assert.ok(
      readinessDuringOutage.some((answer) => answer.status === 503 && (answer.body as { checks: { database: string } }).checks.database === 'unavailable'),
      `/readyz during the outage: ${JSON.stringify(readinessDuringOutage.map((answer) => answer.status))}`,
    );
    assert.ok(readinessDuringOutage.every((answer) => answer.ms < ANSWER_LIMIT_MS), 'readiness answered quickly');
    assert.equal(readinessAfter.status, 200, JSON.stringify(readinessAfter.body));

    // No acknowledged write was lost, and no batch was half-applied.
    const check = new pg.Client({ connectionString: postgres.url });
    await check.connect();
    const { rows } = await check.query<{ id: string; subject: string; message: string; folder: string; unread: string; from_userid: string; to_userid: string }>(
      'select id, subject, message, folder, unread, from_userid, to_userid from messages',
    );
    const ledger = await check.query('select 1 from spam_reports where reporter_id = $1 and sender_id = $2', [recipient.id, sender.id]);
    await check.end();
    const stored = new Map(rows.map((row) => [Number(row.id), row]));
    for (const { id, subject } of acknowledgedCreates) {
      const row = stored.get(id);
      assert.deepEqual(
        row && { subject: row.subject, message: row.message, folder: row.folder, unread: row.unread, from: Number(row.from_userid), to: Number(row.to_userid) },
        { subject, message: 'm', folder: 'inbox', unread: 'Y', from: sender.id, to: recipient.id },
        `acknowledged message ${id}`,
      );
    }
    for (const batch of batches) {
      const states = new Set(batch.ids.map((id) => `${stored.get(id)?.folder}/${stored.get(id)?.unread}`));
      assert.equal(states.size, 1, `batch ${batch.ids.join(',')} half-applied: ${[...states].join(' ')}`);
      const [state] = [...states];
      if (batch.acknowledged) assert.equal(state, batch.target, `acknowledged batch ${batch.ids.join(',')} lost`);
      else assert.ok(state === 'inbox/Y' || state === batch.target, `batch ${batch.ids.join(',')} is ${state}`);
    }
    const anyInSpam = rows.some((row) => row.folder === 'spam');
    assert.equal(ledger.rowCount, anyInSpam ? 1 : 0, 'the ledger matches the spam folder');
    assert.ok(acknowledgedCreates.length > 0 && batches.some((batch) => batch.acknowledged));
  });

  test('an instance started while PostgreSQL is down waits for it, logging each attempt, then migrates and serves', { timeout: 60_000 }, async (t) => {
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query('create database late');
    await admin.end();
    await postgres.stop();

    // Until the service has tried twice, its database's port answers every connection by closing it.
    let tries = 0;
    let triedTwice: () => void = () => {};
    const twice = new Promise<void>((resolve) => (triedTwice = resolve));
    const closing = createServer((socket) => {
      socket.destroy();
      if ((tries += 1) === 2) triedTwice();
    });
    await new Promise<void>((resolve) => closing.listen(Number(new URL(postgres.url).port), '127.0.0.1', resolve));
    const starting = startService({ DATABASE_URL: postgres.url.replace(/\/postgres$/, '/late'), REDIS_URL: '', DATABASE_TIMEOUT_MS: String(DATABASE_TIMEOUT_MS) });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([twice, new Promise((resolve) => (timer = setTimeout(resolve, 20_000)))]);
    clearTimeout(timer);
    await new Promise((resolve) => closing.close(resolve));
    assert.ok(tries >= 2, `the service tried ${tries} times`);
    await postgres.start();
    const service = await starting;
    t.after(() => service.child.kill('SIGKILL'));

    const attempts = service.output().match(/database not reachable yet; retrying/g) ?? [];
    assert.ok(attempts.length >= 2, service.output());
    const created = await postJson(`${service.url}/users/`, { email: `late-${Date.now()}@example.com`, password: 'password-1' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal((await fetch(`${service.url}/readyz`)).status, 200);
  });

  test('hung (every server process stopped), requests answer 503 within the timeout, and succeed again once it resumes', { timeout: 60_000 }, async (t) => {
    const service = await startService({ DATABASE_URL: postgres.url, REDIS_URL: '', DATABASE_TIMEOUT_MS: String(DATABASE_TIMEOUT_MS) });
    t.after(() => service.child.kill('SIGKILL'));
    const sender = (await postJson(`${service.url}/users/`, { email: `hung-${Date.now()}@example.com`, password: 'password-1' })).body as { id: number };
    const message = { from_userid: sender.id, to_userid: sender.id, subject: 's', message: 'm' };
    const first = await postJson(`${service.url}/msg/create/`, message);
    assert.equal(first.status, 200);
    const id = (first.body as { id: number }).id;

    // The pool keeps its idle connection: its next statement meets a server that never answers.
    postgres.pause();
    t.after(() => postgres.resume());
    const answers = await Promise.all([
      send(`${service.url}/msg/create/`, 'POST', 'create', message),
      send(`${service.url}/msg/create/`, 'POST', 'create', message),
      send(`${service.url}/msg/list/`, 'PUT', 'update', { message_id_list: [id], read: 'true' }),
      send(`${service.url}/msg/list/?limit=5`, 'GET', 'list'),
      send(`${service.url}/readyz`, 'GET', 'readyz'),
    ]);
    t.diagnostic(`while hung: ${answers.map((answer) => `${answer.kind} ${answer.status} in ${answer.ms} ms`).join(', ')}`);
    for (const answer of answers) {
      assert.equal(answer.status, 503, `${answer.kind}: ${JSON.stringify(answer.body)}`);
      assert.ok(answer.ms < ANSWER_LIMIT_MS, `${answer.kind} took ${answer.ms} ms`);
      if (answer.kind !== 'readyz') {
        assert.deepEqual(answer.body, { detail: 'Service unavailable' });
        assert.match(answer.retryAfter ?? '', /^[1-9]\d*$/);
      }
    }

    postgres.resume();
    await eventually(async () => (await send(`${service.url}/msg/create/`, 'POST', 'create', message)).status === 200, 10_000, 'a write after the server resumed');
    assert.equal((await send(`${service.url}/msg/list/`, 'PUT', 'update', { message_id_list: [id], read: 'true' })).status, 200);
    assert.equal(service.child.exitCode, null, service.output());
  });
});
