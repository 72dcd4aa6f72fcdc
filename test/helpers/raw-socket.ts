/** A raw TCP client for what fetch cannot do: half-sent headers, stalled bodies, malformed request lines. */
import { connect, type Socket } from 'node:net';

export interface RawExchange {
  socket: Socket;
  /** resolves when the server closes the connection (or the socket fails), with what it wrote and when */
  closed: Promise<{ received: string; afterMs: number; error?: Error }>;
  /** everything received so far */
  received: () => string;
}

/** Opens a connection; every exchange is bounded by `limitMs`, after which the socket is destroyed and the promise rejects. */
export async function openRaw(port: number, limitMs = 15_000): Promise<RawExchange> {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const started = Date.now();
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const received = () => Buffer.concat(chunks).toString('utf8');
  const closed = new Promise<{ received: string; afterMs: number; error?: Error }>((resolve, reject) => {
    let failure: Error | undefined;
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${limitMs} ms; received: ${JSON.stringify(received().slice(0, 500))}`));
    }, limitMs);
    socket.on('error', (error) => (failure = error));
    socket.once('close', () => {
      clearTimeout(guard);
      resolve({ received: received(), afterMs: Date.now() - started, ...(failure ? { error: failure } : {}) });
    });
  });
  return { socket, closed, received };
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses the first HTTP/1.1 answer in `text` (no chunked encoding: the answers under test have a content-length). */
export function parseAnswer(text: string): RawAnswer {
  const headerEnd = text.indexOf('\r\n\r\n');
  if (headerEnd === -1) throw new Error(`no complete HTTP answer in ${JSON.stringify(text.slice(0, 500))}`);
  const [statusLine = '', ...lines] = text.slice(0, headerEnd).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? NaN);
  const rest = Buffer.from(text.slice(headerEnd + 4), 'utf8');
  return { status, headers, body: rest.subarray(0, Number.isNaN(length) ? rest.length : length).toString('utf8') };
}
