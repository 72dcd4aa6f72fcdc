/**
 * One log line per request, when it is answered: method, URL, client, status and time together; and
 * the request counted in the metrics, from the same call. Fastify's own request logging writes two
 * (one on arrival, one on answer), each a write to stdout, which showed in the profile at the default
 * level. Errors keep their own lines, with the same reqId.
 *
 * The line of an answered request is written here as pino would write it, byte for byte: its level and
 * time, the request logger's own bindings (pid, hostname, reqId) as pino keeps them already written,
 * the request through the logger's own `req` serializer, then status, time and message. Through pino's
 * log call, the same line cost about a seventh of a bare request's CPU (callgrind, GET /): it looks up
 * a serializer and a stringifier for every key of every object. Any other line goes through pino.
 */
import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { pino } from 'pino';
import type { ServiceMetrics } from './metrics.js';

const INFO = pino.levels.values.info ?? 30;

/** What of a pino logger the line is written with (pino.symbols: its documented handles). */
interface PinoInternals {
  [pino.symbols.chindingsSym]?: string;
  [pino.symbols.serializersSym]?: { req?: (request: FastifyRequest) => unknown };
  [pino.symbols.streamSym]?: { write(line: string): unknown };
}

/** A number as pino writes one: JSON has no NaN nor Infinity. */
const finiteOrNull = (value: number) => (Number.isFinite(value) ? value : null);

/**
 * Writes the "request completed" line of `request` as pino writes `log.info({ req, res, responseTime },
 * 'request completed')`, to the logger's own stream; false (nothing written) for a logger that is not pino.
 */
export function writeCompletedLine(log: FastifyBaseLogger, request: FastifyRequest, reply: FastifyReply): boolean {
  const internals = log as FastifyBaseLogger & PinoInternals;
  const bindings = internals[pino.symbols.chindingsSym];
  const serialize = internals[pino.symbols.serializersSym]?.req;
  const stream = internals[pino.symbols.streamSym];
  if (bindings === undefined || serialize === undefined || stream === undefined) return false;
  stream.write(
    `{"level":${INFO},"time":${Date.now()}${bindings},"req":${JSON.stringify(serialize(request))},` +
      `"res":{"statusCode":${reply.statusCode}},"responseTime":${finiteOrNull(reply.elapsedTime)},"msg":"request completed"}\n`,
  );
  return true;
}

export class OneLinePerRequest extends LogController {
  /** `metrics`: each answered request is counted here too (plugins/metrics.ts), when metrics are on. */
  constructor(private readonly metrics?: ServiceMetrics) {
    super();
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    this.metrics?.observeAnswered(request, reply);
    if (error) {
      reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
      return;
    }
    if ((pino.levels.values[reply.log.level] ?? Infinity) > INFO) return;
    if (!writeCompletedLine(reply.log, request, reply)) reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
