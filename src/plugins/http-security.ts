/**
 * Security headers (helmet's) on every answer, with a Content-Security-Policy that Swagger UI
 * at /docs works under (it is served from here: scripts and styles from 'self', images also as data:),
 * and CORS (@fastify/cors) only for the origins in CORS_ORIGINS; without them, no CORS headers at all.
 * Registered before authentication so a browser's CORS preflight is answered without a token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

export interface HttpSecurityOptions {
  corsOrigins: readonly string[];
}

const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      // Swagger UI sets style attributes from its scripts.
      'style-src': ["'self'", "'unsafe-inline'"],
      'img-src': ["'self'", 'data:', 'validator.swagger.io'],
      'connect-src': ["'self'"],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
      'object-src': ["'none'"],
      // The service itself speaks plain HTTP (TLS, if any, ends in front of it): upgrading would break /docs on http://.
      'upgrade-insecure-requests': null,
    },
  },
};

/**
 * The headers helmet would set, computed once. (@fastify/helmet builds helmet's middleware anew on
 * every request, which showed up in the profile; the headers never change.)
 */
function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(HELMET_OPTIONS)({} as IncomingMessage, response as unknown as ServerResponse, () => {});
  return headers;
}

async function httpSecurity(app: FastifyInstance, options: HttpSecurityOptions) {
  const headers = securityHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });

  if (options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: options.corsOrigins.includes('*') ? '*' : [...options.corsOrigins],
      methods: ['GET', 'HEAD', 'POST', 'PUT'],
      exposedHeaders: ['retry-after', 'www-authenticate', 'x-request-id', 'x-page-truncated', 'mailbox-state'],
      // Tokens travel in the Authorization header, never in cookies.
      credentials: false,
      maxAge: 600,
    });
  }
}

export default fp(httpSecurity, { name: 'http-security' });
