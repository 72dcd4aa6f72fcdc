/**
 * GET /metrics in Prometheus' text format (prom-client): process metrics, requests and latency by
 * route pattern, and the spam module's events. Each app instance has a registry of its own (tests
 * build many apps in one process); process metrics are collected once per process and shown by all.
 *
 * Public (no token) so a scraper needs no credentials: keep it off the public internet, or switch
 * it off with METRICS_ENABLED=false.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Type } from 'typebox';
import type { SpamReportsObserver } from '../modules/spam/spam-reports.js';

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
  private readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });
  private readonly durations = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to answering it, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    registers: [this.registry],
  });
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

  /** Each (method, route, status)'s series, found once: prom-client hashes a label set on every call otherwise. */
  private readonly series = new Map<string, { requests: { inc(): void }; durations: { observe(value: number): void } }>();

  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    const key = `${method} ${statusCode} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      series = { requests: this.requests.labels({ method, route, status_code: String(statusCode) }), durations: this.durations.labels({ method, route }) };
      this.series.set(key, series);
    }
    series.requests.inc();
    series.durations.observe(seconds);
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
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

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
          '`event_streams_open` (push streams on this instance). ' +
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
