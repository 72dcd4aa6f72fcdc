/**
 * The web inbox at /inbox/: static files (@fastify/static), a client of the public API only.
 * web/public holds the HTML and CSS; `npm run build` compiles web/src to dist/web. Both are found
 * relative to this file, so the same paths work from src/ (tsx) and from dist/ (node).
 * Every route here is public: the page has to load before it can sign in through POST /token.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyCompress from '@fastify/compress';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const INBOX_PREFIX = '/inbox/';
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const WEB_ROOTS = [`${projectRoot}web/public`, `${projectRoot}dist/web`];

/**
 * Every file is revalidated on every load against its ETag (an unchanged file costs a 304 and no
 * body), so a new release shows at once and never mixes with the old one's scripts.
 */
const CACHE_CONTROL = 'no-cache';

async function webInbox(app: FastifyInstance) {
  const roots = WEB_ROOTS.filter((root) => existsSync(root));
  if (!roots.includes(WEB_ROOTS[1] ?? '')) app.log.warn('the web inbox is not built (dist/web is missing): run `npm run build`');
  if (roots.length === 0) return;

  await app.register(async (web) => {
    web.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    // Only here: the page's text files are worth compressing; the API's small JSON answers are not worth the CPU.
    await web.register(fastifyCompress, { encodings: ['br', 'gzip'], threshold: 1024 });
    await web.register(fastifyStatic, {
      root: roots,
      prefix: INBOX_PREFIX,
      cacheControl: false,
      etag: true,
      lastModified: false,
      setHeaders: (reply) => {
        reply.header('cache-control', CACHE_CONTROL);
      },
    });
    // The router ignores trailing slashes, so this one route answers both /inbox/ (the page) and /inbox,
    // which is sent to /inbox/ first: the page's relative links need the trailing slash.
    web.get(INBOX_PREFIX, { schema: { hide: true } }, async (request, reply) => {
      const [path = '', query] = request.url.split('?', 2);
      if (!path.endsWith('/')) return reply.redirect(INBOX_PREFIX + (query === undefined ? '' : `?${query}`), 301);
      return reply.sendFile('index.html');
    });
  });
}

export default fp(webInbox, { name: 'web-inbox' });
