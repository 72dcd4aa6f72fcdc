/** /openapi.json generated from the route schemas, and Swagger UI at /docs, as the original served. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AuthMode } from '../config.js';
import { OpenApiComponents } from './openapi-components.js';

export interface DocsPluginOptions {
  authMode: AuthMode;
}

/** FastAPI's name for the OAuth2 password flow, so Swagger UI's Authorize button logs in through /token. */
export const SECURITY_SCHEME = 'OAuth2PasswordBearer';

async function docsPlugin(app: FastifyInstance, options: DocsPluginOptions) {
  const authOn = options.authMode !== 'off';
  // Routes that need a token say so; with AUTH_MODE=optional the empty requirement `{}` marks the token optional.
  const securityOfProtectedRoutes: Record<string, string[]>[] = options.authMode === 'optional' ? [{}, { [SECURITY_SCHEME]: [] }] : [{ [SECURITY_SCHEME]: [] }];
  // Shapes named by their `$id` become components.schemas, collected as the routes are added (see openapi-components.ts).
  const components = new OpenApiComponents();
  app.addHook('onRoute', (route) => components.collect(route.schema));
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Inbox API',
        version: '1.0.0',
        description: 'Send messages between users; list them, mark them read, trash them and report spam.',
      },
      components: {
        schemas: components.schemas,
        ...(authOn
          ? { securitySchemes: { [SECURITY_SCHEME]: { type: 'oauth2', flows: { password: { tokenUrl: '/token', scopes: {} } } } } }
          : {}),
      },
    },
    // Only the document sees references: the routes keep validating and serializing with their concrete schemas.
    transform: ({ schema, url, route }) => {
      if (!schema || schema.hide) return { schema, url };
      const documented = components.documented(schema as Record<string, unknown>);
      const secured = authOn && !route.config?.public;
      return { schema: secured ? { ...documented, security: securityOfProtectedRoutes } : documented, url };
    },
  });
  // The documentation stays reachable without a token in every mode.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
    docs.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  });
}

export default fp(docsPlugin, { name: 'docs' });
