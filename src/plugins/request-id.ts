/**
 * Request ids: a valid incoming `X-Request-Id` is kept, anything else gets a fresh UUID. Fastify
 * puts the id on every log line of the request (`reqId`, through `genReqId` in app.ts); this plugin
 * sends it back on every answer, errors included.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Short and plain enough to be safe in logs and headers. */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's `genReqId`: the caller's id when it is valid, else a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

async function requestIdPlugin(app: FastifyInstance) {
  // onSend runs for every answer: routes, the 404/405 handler and the error handler alike.
  // (A callback, not an async function: no promise per request.)
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done(null, payload);
  });
}

export default fp(requestIdPlugin, { name: 'request-id' });
