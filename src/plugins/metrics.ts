/**
 * GET /metrics in Prometheus' text format (prom-client): process metrics, requests and latency by
 * route pattern, the spam module's events, open push streams and (SQLite) the search words waiting
 * for the full-text index. Each app instance has a registry of its own (tests build many apps in one
 * process); process metrics are collected once per process and shown by all.
 *
 * Public (no token) so a scraper needs no credentials: keep it off the public internet, or switch
 * it off with METRICS_ENABLED=false.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Type } from 'typebox';
import type { SpamReportsObserver } from '../modules/spam/spam-reports.js';
import type { SearchFlushObserver } from './search-flush.js';

type RequestLabel = 'method' | 'route' | 'status_code';
type DurationLabel = 'method' | 'route' | 'le';
/** What prom-client's registry reads of a histogram, through its getForPromString (not in its types). */
interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  sharedLabels: Record<string, never>;
  value: number;
}

/** `http_requests_total`: counted in a map, handed to prom-client's counter when scraped. */
class RequestCounts {
  private readonly series = new Map<string, { labels: Record<RequestLabel, string | number>; value: number }>();

  constructor(registry: Registry) {
    const series = this.series;
    new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of series.values()) this.inc(labels, value);
      },
    });
  }

  observe(method: string, route: string, statusCode: number): void {
    const key = `${method} ${statusCode} ${route}`;
    const series = this.series.get(key);
    if (series) series.value += 1;
    else this.series.set(key, { labels: { method, route, status_code: statusCode }, value: 1 });
  }
}

/** prom-client's default buckets, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface DurationSeries {
  method: string;
  route: string;
  /** per bucket, not cumulative; the last one past every bound (+Inf) */
  counts: number[];
  sum: number;
}

const DURATIONS_NAME = 'http_request_duration_seconds';
const DURATIONS_HELP = 'Time from receiving a request to answering it, by method and route pattern';

/** `http_request_duration_seconds`: bucket counts in arrays, written out as prom-client writes a histogram when scraped. */
class RequestDurations extends Histogram<DurationLabel> {
  private readonly series = new Map<string, DurationSeries>();

  constructor(registry: Registry) {
    super({
      name: DURATIONS_NAME,
      help: DURATIONS_HELP,
      labelNames: ['method', 'route'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
  }

  // `observe` is prom-client's own (with labels); this one counts a request.
  observeRequest(method: string, route: string, seconds: number): void {
    const key = `${method} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      series = { method, route, counts: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), sum: 0 };
      this.series.set(key, series);
    }
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]!) bucket += 1;
    series.counts[bucket]! += 1;
    series.sum += seconds;
  }

  /** prom-client's registry writes a histogram from this, and its get() reads it too. */
  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramValue[] }> {
    const values: HistogramValue[] = [];
    for (const { method, route, counts, sum } of this.series.values()) {
      let cumulative = 0;
      for (const [index, count] of counts.entries()) {
        cumulative += count;
        values.push({ metricName: `${DURATIONS_NAME}_bucket`, labels: { le: DURATION_BUCKETS[index] ?? '+Inf', method, route }, value: cumulative, sharedLabels: {} });
      }
      values.push({ metricName: `${DURATIONS_NAME}_sum`, labels: { method, route }, value: sum, sharedLabels: {} });
      values.push({ metricName: `${DURATIONS_NAME}_count`, labels: { method, route }, value: cumulative, sharedLabels: {} });
    }
    return { name: DURATIONS_NAME, help: DURATIONS_HELP, type: 'histogram', aggregator: 'sum', values };
  }
}

/** The label for requests no route matched (404, 405): raw URLs would make a label per URL. */
const UNMATCHED_ROUTE = 'unmatched';

let processRegistry: Registry | undefined;

/** Default process metrics, collected once per process: they describe the process, not an app. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class ServiceMetrics {
  private readonly registry = new Registry();
  private readonly requests = new RequestCounts(this.registry);
  private readonly durations = new RequestDurations(this.registry);
  private readonly reportsRecorded = this.counter('spam_reports_recorded_total', 'Spam reports newly recorded in the ledger');
  private readonly reportsWithdrawn = this.counter('spam_reports_withdrawn_total', 'Spam reports withdrawn from the ledger');
  private readonly counterRebuilds = this.counter('spam_counter_rebuilds_total', 'Rebuilds of every spam counter from the ledger (start, Redis reconnect)');
  private readonly redisErrors = this.counter('redis_errors_total', 'Redis connection errors and failed Redis commands of the spam counters');

  /** Handed to SpamReports as its observer. */
  readonly spamReports: SpamReportsObserver = {
    onReportsRecorded: (count) => this.reportsRecorded.inc(count),
    onReportsWithdrawn: (count) => this.reportsWithdrawn.inc(count),
    onRebuild: () => this.counterRebuilds.inc(),
    onRedisError: () => this.redisErrors.inc(),
  };

  readonly contentType = this.registry.contentType;

  constructor() {
    processMetrics();
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }

  /** `search_flush_failures_total`, once the search-flush plugin watches (SQLite only). */
  private searchFlushFailures: Counter | undefined;

  /** Handed to the search-flush plugin, which runs on SQLite only: `search_words_pending` and `search_flush_failures_total`. */
  readonly searchFlush: SearchFlushObserver = {
    watch: (countPending) => {
      this.searchFlushFailures = this.counter('search_flush_failures_total', "Failed attempts to move new messages' words into the full-text index (SQLite)");
      new Gauge({
        name: 'search_words_pending',
        help: 'Messages whose words wait to move into the full-text index (SQLite); every search reads them one by one',
        registers: [this.registry],
        async collect() {
          try {
            this.set(await countPending());
          } catch {
            // The database cannot answer now (/readyz says so): the last value read stays.
          }
        },
      });
    },
    onFlushFailed: () => this.searchFlushFailures?.inc(),
  };

  /** `event_streams_open`: the push streams open on this instance, read when scraped. */
  watchEventStreams(openStreams: () => number): void {
    new Gauge({
      name: 'event_streams_open',
      help: 'Push streams (GET /users/{id}/events) open on this instance',
      registers: [this.registry],
      collect() {
        this.set(openStreams());
      },
    });
  }

  /**
   * Counts a request that was answered. Plain numbers, turned into prom-client's metrics only when
   * scraped: prom-client checks and hashes a label set on every observation, which cost a tenth of a
   * bare request's CPU (measured with callgrind on GET /).
   */
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.requests.observe(method, route, statusCode);
    this.durations.observeRequest(method, route, seconds);
  }

  /**
   * Counts an answered request. Called by the request log's controller (request-log.ts), which Fastify
   * calls once per request after its onResponse hooks: one call where a hook would add its own.
   */
  observeAnswered(request: FastifyRequest, reply: FastifyReply): void {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    this.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  }

  /** Everything in Prometheus' text exposition format. */
  async render(): Promise<string> {
    const [process, service] = await Promise.all([processMetrics().metrics(), this.registry.metrics()]);
    return `${process}\n${service}`;
  }
}

const METRICS_EXAMPLE = [
  '# HELP http_requests_total HTTP requests answered, by method, route pattern and status code',
  '# TYPE http_requests_total counter',
  'http_requests_total{method="GET",route="/users/:user_id",status_code="200"} 42',
  '# HELP spam_reports_recorded_total Spam reports newly recorded in the ledger',
  '# TYPE spam_reports_recorded_total counter',
  'spam_reports_recorded_total 7',
].join('\n');

export interface MetricsPluginOptions {
  metrics: ServiceMetrics;
}

async function metricsPlugin(app: FastifyInstance, { metrics }: MetricsPluginOptions) {
  app.get(
    '/metrics',
    {
      config: { public: true },
      schema: {
        operationId: 'metrics_metrics_get',
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description:
          'Process metrics; `http_requests_total{method,route,status_code}`; `http_request_duration_seconds{method,route}`; ' +
          '`spam_reports_recorded_total`, `spam_reports_withdrawn_total`, `spam_counter_rebuilds_total`, `redis_errors_total`; ' +
          '`event_streams_open` (push streams on this instance); SQLite: `search_words_pending`, `search_flush_failures_total`. ' +
          'No token needed: keep it off the public internet, or set METRICS_ENABLED=false.',
        response: {
          200: {
            description: 'Prometheus text exposition format',
            content: { 'text/plain': { schema: Type.String({ examples: [METRICS_EXAMPLE] }) } },
          },
        },
      },
    },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  );
}

export default fp(metricsPlugin, { name: 'metrics' });
