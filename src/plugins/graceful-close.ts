/**
 * While the server closes, answers to requests still in flight carry `Connection: close`, so
 * keep-alive clients let go at once instead of holding the process open until their sockets time out.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

async function gracefulClose(app: FastifyInstance) {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}

export default fp(gracefulClose, { name: 'graceful-close' });
