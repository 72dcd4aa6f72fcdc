/**
 * One log line per request, when it is answered: method, URL, client, status and time together; and
 * the request counted in the metrics, from the same call.
 * Fastify's own request logging writes two (one on arrival, one on answer), each a write to stdout,
 * which showed in the profile at the default level. Errors keep their own lines, with the same reqId.
 */
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { observeAnswered, type ServiceMetrics } from './metrics.js';

export class OneLinePerRequest extends LogController {
  /** `metrics`: each answered request is counted here too (plugins/metrics.ts), when metrics are on. */
  constructor(private readonly metrics?: ServiceMetrics) {
    super();
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.metrics) observeAnswered(this.metrics, request, reply);
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
