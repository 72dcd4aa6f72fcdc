/**
 * Reads a Server-Sent Events body as it arrives, as an EventSource would: `field: value` lines, an
 * event dispatched at each blank line, comments (`:`) ignored, `\n`, `\r\n` and `\r` all ending lines.
 * The page streams /users/{id}/events with fetch() rather than EventSource because only fetch can send
 * the Authorization header: a token never goes into a URL. Pure, so it is unit-tested without a server.
 */

export interface SseEvent {
  event: string;
  data: string;
}

export class SseParser {
  private buffer = '';
  private eventName = '';
  private data: string[] = [];
  /** the last `retry:` hint, in milliseconds */
  retry: number | undefined;

  /** Feeds the next chunk of text; answers the events completed by it, in order. */
  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.eventName = '';
        return undefined;
      }
      const event = { event: this.eventName || 'message', data: this.data.join('\n') };
      this.eventName = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventName = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return undefined;
  }
}

/** The state a `state` event carries (`data: {"state":"…"}`); undefined for anything else. */
export function stateOfEvent(event: SseEvent): string | undefined {
  if (event.event !== 'state') return undefined;
  try {
    const parsed: unknown = JSON.parse(event.data);
    if (typeof parsed === 'object' && parsed !== null && 'state' in parsed && typeof parsed.state === 'string') return parsed.state;
  } catch {
    // not JSON: not a state
  }
  return undefined;
}

/** How long to wait before reconnecting after the `attempt`-th failure in a row: doubling, capped, with jitter so tabs do not reconnect in step. */
export function backoffMs(attempt: number, random: number = Math.random(), baseMs = 1000, capMs = 30_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
