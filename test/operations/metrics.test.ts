import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { dialectOf } from '../../src/db/create-db.js';
import { PENDING_COUNT_LIMIT } from '../../src/modules/mailbox/search-index.js';
import { ServiceMetrics } from '../../src/plugins/metrics.js';
import { buildTestApp } from '../helpers/build-test-app.js';
import { batchUpdate, createUser, sendMessages } from '../helpers/factories.js';
import { eventually, privateRedis } from '../helpers/services.js';

async function scrape(app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return response.body;
}

/** The value of one sample line, `name{labels} value`, or undefined when the line is absent. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  test('shows the request just made, by route pattern and status, with its latency', async (t) => {
    const { app } = await buildTestApp(t);
    const response = await app.inject({ method: 'GET', url: '/users/987654' });
    assert.equal(response.statusCode, 404);

    const body = await scrape(app);
    assert.equal(sample(body, 'http_requests_total{method="GET",route="/users/:user_id",status_code="404"}'), 1);
    assert.equal(sample(body, 'http_request_duration_seconds_count{method="GET",route="/users/:user_id"}'), 1);
    assert.ok(body.includes('http_request_duration_seconds_bucket{le="0.005",method="GET",route="/users/:user_id"}'), 'histogram buckets');
    assert.ok(!body.includes('987654'), 'the raw URL never becomes a label');
  });

  test('latencies fall into cumulative buckets, with their sum and count, per route and method', async () => {
    const metrics = new ServiceMetrics();
    for (const seconds of [0.003, 0.005, 0.02, 20]) metrics.observeRequest('GET', '/a', 200, seconds);
    metrics.observeRequest('PUT', '/a', 500, 0.2);
    const body = await metrics.render();
    const bucket = (le: string, method = 'GET') => sample(body, `http_request_duration_seconds_bucket{le="${le}",method="${method}",route="/a"}`);
    // A duration on a bound counts in that bucket (le: less than or equal).
    assert.deepEqual(['0.005', '0.01', '0.025', '0.05', '10', '+Inf'].map((le) => bucket(le)), [2, 2, 3, 3, 3, 4]);
    assert.equal(sample(body, 'http_request_duration_seconds_sum{method="GET",route="/a"}'), 0.003 + 0.005 + 0.02 + 20);
    assert.equal(sample(body, 'http_request_duration_seconds_count{method="GET",route="/a"}'), 4);
    assert.deepEqual([bucket('0.1', 'PUT'), bucket('0.25', 'PUT'), bucket('+Inf', 'PUT')], [0, 1, 1]);
    assert.equal(sample(body, 'http_requests_total{method="GET",route="/a",status_code="200"}'), 4);
    assert.equal(sample(body, 'http_requests_total{method="PUT",route="/a",status_code="500"}'), 1);
    assert.equal(sample(body, 'http_requests_total{method="GET",route="/a",status_code="500"}'), undefined);
  });

  test('counts requests no route matches under route="unmatched"', async (t) => {
    const { app } = await buildTestApp(t);
    assert.equal((await app.inject({ method: 'GET', url: '/no/such/page-123' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'DELETE', url: '/msg/create/' })).statusCode, 405);

    const body = await scrape(app);
    assert.equal(sample(body, 'http_requests_total{method="GET",route="unmatched",status_code="404"}'), 1);
    assert.equal(sample(body, 'http_requests_total{method="DELETE",route="unmatched",status_code="405"}'), 1);
    assert.ok(!body.includes('page-123'));
  });

  test('event_streams_open counts the push streams open on this instance, up and down', async (t) => {
    const { app } = await buildTestApp(t);
    const ada = await createUser(app);
    assert.equal(sample(await scrape(app), 'event_streams_open'), 0);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    const streams = Array.from({ length: 2 }, () => new AbortController());
    const responses = await Promise.all(
      streams.map((stream) => fetch(`http://127.0.0.1:${address.port}/users/${ada.id}/events`, { signal: stream.signal })),
    );
    for (const response of responses) assert.equal(response.status, 200);
    await eventually(async () => sample(await scrape(app), 'event_streams_open') === 2, 5000, '2 open streams');
    streams[0]?.abort();
    await eventually(async () => sample(await scrape(app), 'event_streams_open') === 1, 5000, '1 open streams');
    streams[1]?.abort();
    await eventually(async () => sample(await scrape(app), 'event_streams_open') === 0, 5000, '0 open streams');
  });

  test('includes the default process metrics', async (t) => {
    const { app } = await buildTestApp(t);
    const body = await scrape(app);
    assert.match(body, /^process_cpu_seconds_total \d/m);
    assert.match(body, /^nodejs_heap_size_used_bytes \d/m);
  });

  test('counts spam reports recorded and withdrawn: one per reporter and sender, however many messages', async (t) => {
    const { app } = await buildTestApp(t);
    const before = await scrape(app);
    assert.equal(sample(before, 'spam_reports_recorded_total'), 0);
    assert.equal(sample(before, 'spam_reports_withdrawn_total'), 0);
    assert.ok((sample(before, 'spam_counter_rebuilds_total') ?? 0) >= 1, 'the counters are reconciled at start');

    const sender = await createUser(app);
    const [first, second] = [await createUser(app), await createUser(app)];
    const firstIds = await sendMessages(app, sender.id, first.id, 3);
    assert.equal((await batchUpdate(app, { message_id_list: firstIds, spam: 'true' })).statusCode, 200);
    assert.equal((await batchUpdate(app, { message_id_list: await sendMessages(app, sender.id, second.id, 1), spam: 'true' })).statusCode, 200);
    // Reporting again is not a new report.
    assert.equal((await batchUpdate(app, { message_id_list: firstIds, spam: 'true' })).statusCode, 200);
    assert.equal((await batchUpdate(app, { message_id_list: firstIds, spam: 'false' })).statusCode, 200);

    const after = await scrape(app);
    assert.equal(sample(after, 'spam_reports_recorded_total'), 2);
    assert.equal(sample(after, 'spam_reports_withdrawn_total'), 1);
    assert.equal(await app.spamReports.reportedBy(sender.id), 1);
    assert.equal(sample(after, 'http_requests_total{method="PUT",route="/msg/list/",status_code="200"}'), 4);
  });

  test('counts Redis errors during an outage, and a rebuild of the counters when Redis is back', async (t) => {
    const server = await privateRedis();
    t.after(() => server.stop());
    const { app } = await buildTestApp(t, { REDIS_URL: server.url, REDIS_TIMEOUT_MS: '300' });
    const before = await scrape(app);
    assert.equal(sample(before, 'redis_errors_total'), 0);
    const rebuildsBefore = sample(before, 'spam_counter_rebuilds_total') ?? 0;

    await server.stop();
    await eventually(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 503, 5_000, 'Redis seen as down');
    assert.ok((sample(await scrape(app), 'redis_errors_total') ?? 0) >= 1);

    await server.start();
    await eventually(
      async () => (sample(await scrape(app), 'spam_counter_rebuilds_total') ?? 0) > rebuildsBefore,
      15_000,
      'a rebuild after reconnecting',
    );
  });

  test('SQLite: search_words_pending counts the words waiting for the full-text index, back to 0 once moved; each failed move counts in search_flush_failures_total', async (t) => {
    const { app } = await buildTestApp(t);
    const body = await scrape(app);
    if (dialectOf(app.db) !== 'sqlite') {
      // PostgreSQL indexes each message as it stores it: nothing waits, and neither series exists.
      assert.equal(sample(body, 'search_words_pending'), undefined);
      assert.equal(sample(body, 'search_flush_failures_total'), undefined);
      return;
    }
    assert.equal(sample(body, 'search_words_pending'), 0);
    assert.equal(sample(body, 'search_flush_failures_total'), 0);
    const [ada, bob] = [await createUser(app), await createUser(app)];
    await sendMessages(app, ada.id, bob.id, 3);
    await eventually(async () => sample(await scrape(app), 'search_words_pending') === 0, 5_000, 'the words moved');

    // A full-text index that cannot be written (here: gone) leaves new words waiting, and says so.
    await sql`drop table messages_search`.execute(app.db);
    await sendMessages(app, ada.id, bob.id, 4);
    await eventually(async () => (sample(await scrape(app), 'search_flush_failures_total') ?? 0) >= 1, 5_000, 'a failed move');
    assert.equal(sample(await scrape(app), 'search_words_pending'), 4);

    // However many wait, a scrape counts no more than PENDING_COUNT_LIMIT of them.
    await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${PENDING_COUNT_LIMIT})
      insert into messages_search_pending (id, words) select 1000000 + i, 'word' from n`.execute(app.db);
    assert.equal(sample(await scrape(app), 'search_words_pending'), PENDING_COUNT_LIMIT);
  });

  test('each app instance counts its own requests', async (t) => {
    const [one, two] = [(await buildTestApp(t)).app, (await buildTestApp(t)).app];
    await one.inject({ method: 'GET', url: '/' });
    await one.inject({ method: 'GET', url: '/' });
    await two.inject({ method: 'GET', url: '/' });
    assert.equal(sample(await scrape(one), 'http_requests_total{method="GET",route="/",status_code="200"}'), 2);
    assert.equal(sample(await scrape(two), 'http_requests_total{method="GET",route="/",status_code="200"}'), 1);
  });

  test('METRICS_ENABLED=false removes the route', async (t) => {
    const { app } = await buildTestApp(t, { METRICS_ENABLED: 'false' });
    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });
});
