/**
 * GET /healthz: the process is alive (no I/O). GET /readyz: the database answers and, when
 * configured, so does Redis; 503 naming what failed otherwise. Each check is bounded in time, so a
 * hung dependency makes the instance "not ready" instead of hanging the probe.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { sql } from 'kysely';
import { Type } from 'typebox';

const CheckResult = Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]);

type Check = 'ok' | 'unavailable';

interface ReadinessBody {
  status: 'ready' | 'not ready';
  checks: { database: Check; redis: Check | 'not configured' };
}

/** The readiness answer, the same shape for 200 and 503 (named Readiness in /openapi.json). */
const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
    checks: Type.Object({
      database: CheckResult,
      redis: Type.Union([Type.Literal('ok'), Type.Literal('unavailable'), Type.Literal('not configured')]),
    }),
  },
  { $id: 'Readiness' },
);

/** Readiness as one status documents it: its own description and example. */
function readinessSchema(description: string, example: ReadinessBody) {
  return Type.Intersect([Readiness], { description, examples: [example] });
}

export interface HealthPluginOptions {
  /** how long the database check may take (DATABASE_TIMEOUT_MS, which bounds every database wait) */
  databaseTimeoutMs: number;
  /** how long the Redis check may take (REDIS_TIMEOUT_MS, which bounds every Redis command) */
  redisTimeoutMs: number;
}

/** Runs a check, failing it when it throws or outlasts the timeout. */
async function check(name: string, app: FastifyInstance, timeoutMs: number, probe: () => Promise<unknown>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch (error) {
    app.log.warn({ err: error, check: name }, 'readiness check failed');
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

async function healthPlugin(app: FastifyInstance, options: HealthPluginOptions) {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        operationId: 'liveness_healthz_get',
        tags: ['operations'],
        summary: 'Liveness: the process is up',
        description: 'Answers without touching the database or Redis; restart the instance when this fails.',
        response: {
          200: Type.Object({ status: Type.Literal('ok') }, { $id: 'Liveness', description: 'The process is alive', examples: [{ status: 'ok' }] }),
        },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        operationId: 'readiness_readyz_get',
        tags: ['operations'],
        summary: 'Readiness: the database and Redis answer',
        description:
          'Checks the database (a trivial query) and, when REDIS_URL is set, Redis (PING), each within a time limit. ' +
          '503 names what failed; take the instance out of the load balancer until it answers 200 again.',
        response: {
          200: readinessSchema('Every dependency answers (`redis` is `not configured` without REDIS_URL)', {
            status: 'ready',
            checks: { database: 'ok', redis: 'ok' },
          }),
          503: readinessSchema('A dependency failed to answer in time; `checks` names which', {
            status: 'not ready',
            checks: { database: 'ok', redis: 'unavailable' },
          }),
        },
      },
    },
    async (_request, reply) => {
      const [database, redis] = await Promise.all([
        check('database', app, options.databaseTimeoutMs, () => sql`select 1`.execute(app.db)),
        app.spamReports.usesRedis ? check('redis', app, options.redisTimeoutMs, () => app.spamReports.ping()) : ('not configured' as const),
      ]);
      const ready = database === 'ok' && redis !== 'unavailable';
      const body: ReadinessBody = { status: ready ? 'ready' : 'not ready', checks: { database, redis } };
      return reply.code(ready ? 200 : 503).send(body);
    },
  );
}

export default fp(healthPlugin, { name: 'health', dependencies: ['db', 'spam-reports'] });
