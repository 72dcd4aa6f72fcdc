/**
 * Makes Fastify speak FastAPI on the wire: body parsing as FastAPI does it, request validation
 * that reports every problem of a request at once with FastAPI's `loc`, and one error handler
 * that maps every error to `{"detail": …}`. Handlers only throw; nothing else builds error bodies.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { isDatabaseUnavailable } from '../db/create-db.js';
import { HttpError, RequestValidationError, ServiceUnavailable, type ValidationIssue } from '../errors.js';
import { type JsonSchema, validatePart } from './validation.js';

function parseJsonBody(_request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void) {
  if (body.trim() === '') return done(null, undefined);
  try {
    done(null, JSON.parse(body));
  } catch (error) {
    const message = error instanceof Error ? error.message : 'Invalid JSON';
    done(new RequestValidationError([{ loc: ['body'], msg: message, type: 'value_error.jsondecode' }]));
  }
}

interface RouteSchemas {
  params?: JsonSchema;
  querystring?: JsonSchema;
  body?: JsonSchema;
}

function validationHook(schemas: RouteSchemas) {
  return async function validateRequest(request: FastifyRequest) {
    const issues: ValidationIssue[] = [];
    // FastAPI's order: path, then query, then body.
    const parts = [
      ['path', 'params', schemas.params],
      ['query', 'query', schemas.querystring],
      ['body', 'body', schemas.body],
    ] as const;
    for (const [part, property, schema] of parts) {
      if (!schema) continue;
      const result = validatePart(schema, request[property], part);
      if (result.ok) request[property] = result.value;
      else issues.push(...result.issues);
    }
    if (issues.length > 0) throw new RequestValidationError(issues);
  };
}

/** A route's URL as a pattern, so an unknown method on a known path can answer 405. */
function urlPattern(url: string): RegExp {
  const escaped = url
    .replace(/\/+$/, '')
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}

/**
 * Starlette keeps a percent-escape it cannot decode as it is, so `/users/%ZZ` reaches the route and
 * fails as "not an integer". Fastify would refuse the whole URL; escaping the stray `%` keeps the
 * original's behaviour. Used as Fastify's `rewriteUrl`.
 */
export function keepUndecodableEscapes(url: string): string {
  if (!url.includes('%')) return url;
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  try {
    decodeURIComponent(path);
    return url;
  } catch {
    return path.replaceAll('%', '%25') + (queryStart === -1 ? '' : url.slice(queryStart));
  }
}

/** Retry-After of a 503 for an unavailable database: a restarting PostgreSQL is usually back within seconds. */
const DATABASE_RETRY_AFTER_SECONDS = 2;

function sendDetail(reply: FastifyReply, statusCode: number, detail: unknown) {
  return reply.code(statusCode).type('application/json').send(JSON.stringify({ detail }));
}

async function fastapiErrors(app: FastifyInstance) {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json/, { parseAs: 'string' }, parseJsonBody);
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    // As FastAPI: no content type at all is read as JSON; any other type stays raw text, which is not a dict.
    if (!request.headers['content-type']) return parseJsonBody(request, String(body), done);
    done(null, body === '' ? undefined : body);
  });

  // Validation is ours (validateRequest); Fastify's Ajv pass is switched off.
  app.setValidatorCompiler(() => () => true);

  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = urlPattern(route.url);
    const known = routes.find((entry) => entry.pattern.source === pattern.source);
    if (known) methods.forEach((method) => known.methods.add(method));
    else routes.push({ pattern, methods: new Set(methods) });

    const schemas = (route.schema ?? {}) as RouteSchemas;
    if (schemas.params || schemas.querystring || schemas.body) {
      const existing = route.preValidation ? [route.preValidation].flat() : [];
      route.preValidation = [validationHook(schemas), ...existing];
    }
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = routes.filter((route) => route.pattern.test(path)).flatMap((route) => [...route.methods]);
    if (allowed.length > 0) {
      return sendDetail(reply.header('allow', [...new Set(allowed)].join(', ')), 405, 'Method Not Allowed');
    }
    return sendDetail(reply, 404, 'Not Found');
  });

  app.setErrorHandler((error: FastifyError | HttpError | RequestValidationError, request, reply) => {
    if (error instanceof RequestValidationError) return sendDetail(reply, 422, error.issues);
    if (!(error instanceof HttpError) && error.code === 'ECONNRESET' && !request.raw.complete) {
      // The client dropped its own upload (or we timed it out): nobody is left to answer, and nothing failed here.
      // (Not `destroyed`: Node sets it once a body is read, so a database connection reset would land here.)
      request.log.debug({ err: error }, 'client went away mid-request');
      return sendDetail(reply, 400, 'Bad Request');
    }
    if (!(error instanceof HttpError) && isDatabaseUnavailable(error)) {
      // Not a bug: the same request may succeed once the database is back (or its lock is free).
      request.log.warn({ err: error }, 'database unavailable; answered 503');
      error = new ServiceUnavailable(DATABASE_RETRY_AFTER_SECONDS);
    }
    if (error instanceof HttpError) return sendDetail(reply.headers(error.headers), error.statusCode, error.detail);
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendDetail(reply, 413, 'Request body too large');
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      // FastAPI reads a body of a type it does not know as raw bytes, which is not a dict.
      return sendDetail(reply, 422, [{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }]);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendDetail(reply, status, error.message);
    request.log.error({ err: error }, 'unhandled error');
    return sendDetail(reply, 500, 'Internal Server Error');
  });
}

export default fp(fastapiErrors, { name: 'fastapi-errors' });
