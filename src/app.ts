/** buildApp(config): every plugin and module wired together, ready to listen or to inject into. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from './config.js';
import { stdoutDestination } from './log-destination.js';
import authPlugin from './plugins/auth.js';
import { clientErrorHandler } from './fastapi/client-errors.js';
import dbPlugin, { openDatabase } from './plugins/db.js';
import docsPlugin from './plugins/docs.js';
import fastapiErrors, { keepUndecodableEscapes } from './fastapi/fastapi-errors.js';
import gracefulClose from './plugins/graceful-close.js';
import healthPlugin from './plugins/health.js';
import httpSecurity from './plugins/http-security.js';
import metricsPlugin, { ServiceMetrics } from './plugins/metrics.js';
import rateLimitPlugin from './plugins/rate-limit.js';
import requestIdPlugin, { requestIdOf } from './plugins/request-id.js';
import { OneLinePerRequest } from './plugins/request-log.js';
import spamPlugin from './plugins/spam.js';
import searchFlush from './plugins/search-flush.js';
import mailboxEventsPlugin from './plugins/mailbox-events.js';
import webInbox from './plugins/web-inbox.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { clientConfigRoutes } from './modules/auth/client-config.routes.js';
import { AccessTokens } from './modules/auth/tokens.js';
import { mailboxRoutes } from './modules/mailbox/mailbox.routes.js';
import { messagesRoutes } from './modules/messages/messages.routes.js';
import { moderationRoutes } from './modules/moderation/moderation.routes.js';
import { spamReportsSettings } from './modules/spam/spam-reports.js';
import { usersRoutes } from './modules/users/users.routes.js';

/** How often Node looks for requests past their headers or request timeout: a late socket closes within this. */
const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

export interface BuildOptions {
  /** PostgreSQL only: the schema to work in (tests use one each). */
  databaseSchema?: string;
  /** Where log lines go instead of stdout (tests read them). */
  loggerStream?: DestinationStream;
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const metrics = config.metricsEnabled ? new ServiceMetrics() : undefined;
  const app = Fastify({
    logger: { level: config.logLevel, stream: options.loggerStream ?? stdoutDestination() },
    // X-Request-Id: kept when valid, else a new UUID; every log line of the request carries it as reqId.
    requestIdHeader: false,
    // One line per request instead of two, and the request counted in the metrics (plugins/request-log.ts).
    logController: new OneLinePerRequest(metrics),
    genReqId: requestIdOf,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true },
    rewriteUrl: (request) => keepUndecodableEscapes(request.url ?? '/'),
    // On close, drop idle keep-alive sockets at once; requests in flight still finish.
    forceCloseConnections: 'idle',
    // Slow or stalled clients lose their socket: headers, then the whole request, must arrive in time;
    // an idle keep-alive or silent socket is closed. Node checks the first two every connectionsCheckingInterval.
    requestTimeout: config.httpTimeouts.requestMs,
    keepAliveTimeout: config.httpTimeouts.keepAliveMs,
    connectionTimeout: config.httpTimeouts.socketIdleMs,
    http: {
      // Node refuses a headers timeout longer than the request timeout; the request's own bound is the stricter anyway.
      headersTimeout: Math.min(config.httpTimeouts.headersMs, config.httpTimeouts.requestMs),
      requestTimeout: config.httpTimeouts.requestMs,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    },
    // Node's own 400/408/413/431 answers, in the contract's {"detail": …} shape.
    clientErrorHandler,
    trustProxy: typeof config.trustProxy === 'boolean' ? config.trustProxy : [...config.trustProxy],
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(fastapiErrors);
  await app.register(gracefulClose);
  await app.register(requestIdPlugin);
  // Opened before registering: waiting for a database that is still starting may outlast Fastify's plugin timeout.
  const database = await openDatabase({
    url: config.databaseUrl,
    poolMax: config.databasePoolMax,
    sqliteSynchronous: config.sqliteSynchronous,
    timeoutMs: config.databaseTimeoutMs,
    log: app.log,
    ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
  });
  await app.register(dbPlugin, database);
  await app.register(searchFlush, { observer: metrics?.searchFlush });
  await app.register(spamPlugin, { settings: spamReportsSettings(config), ...(metrics ? { observer: metrics.spamReports } : {}) });
  await app.register(mailboxEventsPlugin, { config });
  metrics?.watchEventStreams(() => app.mailboxEvents.streams.size);
  // Headers and CORS first, so a preflight is answered before authentication looks for a token.
  await app.register(httpSecurity, { corsOrigins: config.corsOrigins });
  const tokens =
    config.authMode !== 'off' && config.authSecret
      ? new AccessTokens({
          secret: config.authSecret,
          ttlSeconds: config.authTokenTtlSeconds,
          issuer: config.authTokenIssuer,
          audience: config.authTokenAudience,
        })
      : undefined;
  await app.register(authPlugin, { mode: config.authMode, tokens, moderatorEmails: config.moderatorEmails });
  await app.register(rateLimitPlugin, {
    limits: config.rateLimits,
    redisUrl: config.redisUrl,
    redisKeyPrefix: config.redisKeyPrefix,
    redisTimeoutMs: config.redisTimeoutMs,
  });
  await app.register(docsPlugin, { authMode: config.authMode });
  await app.register(healthPlugin, { databaseTimeoutMs: config.databaseTimeoutMs, redisTimeoutMs: config.redisTimeoutMs });
  await app.register(webInbox);
  if (metrics) await app.register(metricsPlugin, { metrics });

  app.get(
    '/',
    {
      schema: {
        operationId: 'read_root__get',
        tags: ['root'],
        summary: 'Greeting: {"Hello": "World"}',
        response: { 200: Type.Object({ Hello: Type.String() }, { $id: 'HelloWorld' }) },
      },
      config: { public: true },
    },
    async () => ({ Hello: 'World' }),
  );
  await app.register(usersRoutes, { passwordMinLength: config.passwordMinLength });
  await app.register(messagesRoutes);
  await app.register(mailboxRoutes);
  await app.register(moderationRoutes);
  await app.register(clientConfigRoutes, {
    authMode: config.authMode,
    tokenTtlSeconds: config.authTokenTtlSeconds,
    passwordMinLength: config.passwordMinLength,
  });
  if (tokens) await app.register(authRoutes, { tokens });
  return app;
}
