/** buildApp(config): every plugin and module wired together, ready to listen or to inject into. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from './config.js';
import dbPlugin from './plugins/db.js';
import docsPlugin from './plugins/docs.js';
import fastapiErrors, { keepUndecodableEscapes } from './plugins/fastapi-errors.js';
import spamReportsPlugin from './plugins/spam-reports.js';
import { messagesRoutes } from './modules/messages/messages.routes.js';
import { usersRoutes } from './modules/users/users.routes.js';

export interface BuildOptions {
  /** PostgreSQL only: the schema to work in (tests use one each). */
  databaseSchema?: string;
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true },
    rewriteUrl: (request) => keepUndecodableEscapes(request.url ?? '/'),
    // On close, drop idle keep-alive sockets at once; requests in flight still finish.
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(fastapiErrors);
  await app.register(docsPlugin);
  await app.register(dbPlugin, {
    url: config.databaseUrl,
    poolMax: config.databasePoolMax,
    sqliteSynchronous: config.sqliteSynchronous,
    ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
  });
  await app.register(spamReportsPlugin, {
    redisUrl: config.redisUrl,
    redisKeyPrefix: config.redisKeyPrefix,
    redisTimeoutMs: config.redisTimeoutMs,
    ttlSeconds: config.spamReportTtlSeconds,
  });

  app.get('/', { schema: { tags: ['root'], response: { 200: Type.Object({ Hello: Type.String() }) } } }, async () => ({
    Hello: 'World',
  }));
  await app.register(usersRoutes);
  await app.register(messagesRoutes);
  return app;
}
