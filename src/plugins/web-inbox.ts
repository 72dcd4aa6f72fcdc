/**
 * The web inbox at /inbox/: static files (@fastify/static), a client of the public API only.
 * web/public holds the HTML and CSS; `npm run build` compiles web/src to dist/web. Both are found
 * relative to this file, so the same paths work from src/ (tsx) and from dist/ (node).
 * Every route here is public: the page has to load before it can sign in through POST /token.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const INBOX_PREFIX = '/inbox/';
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const WEB_ROOTS = [`${projectRoot}web/public`, `${projectRoot}dist/web`];

/** index.html is revalidated on every load (so a deploy shows at once); the scripts and styles it names are cached briefly. */
function cacheControlOf(path: string): string {
  return path.endsWith('.html') ? 'no-cache' : 'public, max-age=300';
}

async function webInbox(app: FastifyInstance) {
  const roots = WEB_ROOTS.filter((root) => existsSync(root));
  if (!roots.includes(WEB_ROOTS[1] ?? '')) app.log.warn('the web inbox is not built (dist/web is missing): run `npm run build`');
  if (roots.length === 0) return;

  await app.register(async (web) => {
    web.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await web.register(fastifyStatic, {
      root: roots,
      prefix: INBOX_PREFIX,
      cacheControl: false,
      setHeaders: (reply, path) => {
        reply.header('cache-control', cacheControlOf(path));
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
