/**
 * A Server-Sent Events client over a real socket (GET /users/{id}/events on a listening server), read
 * as an EventSource reads it: `field: value` lines, events dispatched at a blank line, comments (`:`)
 * kept apart. One connection per stream (no agent), so closing it closes the stream on the server.
 */
import { type IncomingHttpHeaders, request } from 'node:http';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';

export interface SseEvent {
  event: string;
  data: string;
  /** Date.now() when its blank line arrived */
  at: number;
}

export interface SseClosed {
  /** 'end': the server ended the body; 'cut': the connection closed without an end (reset, or closed by us) */
  how: 'end' | 'cut';
  at: number;
}

export interface SseStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** Date.now() when the headers arrived */
  openedAt: number;
  /** every dispatched event, in order */
  events: SseEvent[];
  /** the text of every comment line (after the colon), in order */
  comments: { text: string; at: number }[];
  /** the last `retry:` field's value */
  retry: number | undefined;
  /** the whole body read so far */
  text(): string;
  /** resolves when the response is over (the server ended it, or the connection closed) */
  closed: Promise<SseClosed>;
  isClosed(): boolean;
  /** the `state` of each `state` event, in order */
  states(): string[];
  /** the first event at index `from` or later that satisfies `match`; rejects after `timeoutMs` */
  waitFor(match: (event: SseEvent) => boolean, options?: { timeoutMs?: number; from?: number }): Promise<SseEvent>;
  /** the first `state` event (at index `from` or later) that carries this state */
  waitForState(state: string, options?: { timeoutMs?: number; from?: number }): Promise<SseEvent>;
  /** closes the connection from the client's side */
  close(): void;
}

/** The listening address of an app started with `app.listen({ port: 0, host: '127.0.0.1' })`. */
export function baseUrlOf(app: FastifyInstance): string {
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the app is not listening');
  return `http://127.0.0.1:${address.port}`;
}

/** Starts listening on a free local port and returns the base URL. */
export async function listenLocally(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return baseUrlOf(app);
}

export function stateOfEvent(event: SseEvent): string | undefined {
  if (event.event !== 'state') return undefined;
  return (JSON.parse(event.data) as { state?: string }).state;
}

/**
 * GET `url` (a full http:// URL) and read it as an event stream. Resolves once the headers are in, whatever
 * the status (a refusal's body is in `text()` once `closed` resolves). The connection is closed when the
 * test ends, if it is still open.
 */
export async function openEventStream(t: TestContext, url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<SseStream> {
  return new Promise<SseStream>((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, headers: { accept: 'text/event-stream', ...headers } });
    const guard = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer to GET ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    // Before the answer, an error fails the opening; after it, the stream's `closed` tells.
    req.on('error', (error) => {
      clearTimeout(guard);
      reject(error);
    });
    req.once('response', (response) => {
      clearTimeout(guard);
      response.setEncoding('utf8');
      let body = '';
      let pending = '';
      let eventName = '';
      let dataLines: string[] | undefined;
      let closedFlag = false;
      const listeners = new Set<() => void>();
      const stream: SseStream = {
        status: response.statusCode ?? 0,
        headers: response.headers,
        openedAt: Date.now(),
        events: [],
        comments: [],
        retry: undefined,
        text: () => body,
        closed: undefined as unknown as Promise<SseClosed>,
        isClosed: () => closedFlag,
        states: () => stream.events.map(stateOfEvent).filter((state): state is string => state !== undefined),
        waitFor(match, { timeoutMs: wait = 5000, from = 0 } = {}) {
          return new Promise<SseEvent>((resolveEvent, rejectEvent) => {
            const check = () => {
              const found = stream.events.slice(from).find(match);
              if (found) {
                done();
                resolveEvent(found);
              } else if (closedFlag) {
                done();
                rejectEvent(new Error(`the stream closed before the event came; events: ${JSON.stringify(stream.events.map((event) => event.data))}`));
              }
            };
            const timer = setTimeout(() => {
              done();
              rejectEvent(new Error(`no such event within ${wait} ms; events: ${JSON.stringify(stream.events.map((event) => event.data))}`));
            }, wait);
            const done = () => {
              clearTimeout(timer);
              listeners.delete(check);
            };
            listeners.add(check);
            check();
          });
        },
        waitForState(state, waitOptions) {
          return stream.waitFor((event) => stateOfEvent(event) === state, waitOptions);
        },
        close() {
          req.destroy();
        },
      };
      const tell = () => {
        for (const listener of [...listeners]) listener();
      };
      const line = (text: string) => {
        const now = Date.now();
        if (text === '') {
          if (dataLines !== undefined) stream.events.push({ event: eventName || 'message', data: dataLines.join('\n'), at: now });
          eventName = '';
          dataLines = undefined;
          return;
        }
        if (text.startsWith(':')) {
          stream.comments.push({ text: text.slice(1).replace(/^ /, ''), at: now });
          return;
        }
        const colon = text.indexOf(':');
        const field = colon < 0 ? text : text.slice(0, colon);
        const value = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') eventName = value;
        else if (field === 'data') (dataLines ??= []).push(value);
        else if (field === 'retry' && /^\d+$/.test(value)) stream.retry = Number(value);
      };
      response.on('data', (chunk: string) => {
        body += chunk;
        pending += chunk;
        const lines = pending.split(/\r\n|\r|\n/);
        pending = lines.pop() ?? '';
        for (const text of lines) line(text);
        tell();
      });
      stream.closed = new Promise<SseClosed>((resolveClosed) => {
        let ended = false;
        response.once('end', () => (ended = true));
        response.on('error', () => {});
        // 'close' comes after 'end' when the body ended; alone when the connection was cut.
        response.once('close', () => {
          closedFlag = true;
          resolveClosed({ how: ended ? 'end' : 'cut', at: Date.now() });
          tell();
        });
      });
      t.after(() => req.destroy());
      resolve(stream);
    });
    req.end();
  });
}

/** Waits until `check` holds, polling every 20 ms; fails after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
