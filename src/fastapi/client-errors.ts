/**
 * Node answers some requests itself, before Fastify sees them: a malformed request line, headers
 * too large, a request that took too long. This clientErrorHandler (a Fastify constructor option)
 * answers them in the contract's shape, `{"detail": …}` as JSON, then closes the socket.
 */
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyInstance } from 'fastify';

const CLIENT_ERRORS: Readonly<Record<string, readonly [number, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large'],
  // Raised by the headers and request timeouts (server.headersTimeout, server.requestTimeout).
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};
const BAD_REQUEST = [400, 'Bad Request'] as const;

/** The raw HTTP answer for a client error: status line, JSON body, its length, and `connection: close`. */
function clientErrorAnswer(code: string | undefined): string {
  const [status, reason] = (code !== undefined ? CLIENT_ERRORS[code] : undefined) ?? BAD_REQUEST;
  const body = JSON.stringify({ detail: reason });
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    'content-type: application/json\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'connection: close\r\n\r\n' +
    body
  );
}

/** Node keeps the response being written on the socket; our bytes must not land in the middle of it. */
function responseStarted(socket: Socket): boolean {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  return inFlight?.headersSent === true;
}

/** Fastify binds it to the instance, as its own default handler. */
export function clientErrorHandler(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  // A reset connection is gone already; there is nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  this.log.debug({ err: error }, 'client error answered by the server');
  if (socket.writable && !responseStarted(socket)) socket.write(clientErrorAnswer(error.code));
  socket.destroy(error);
}
