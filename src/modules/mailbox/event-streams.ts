/**
 * The open Server-Sent Events streams of one instance (GET /users/{id}/events), by user. Each stream
 * is told its user's new state (coalesced: at most one event per `minIntervalMs`, always the newest
 * state, never an older one after a newer), a comment every `heartbeatMs` so that proxies and clients
 * know it is alive, and is closed when its token expires, when its user opens one stream too many
 * (the oldest goes), when it cannot keep up, or on shutdown.
 */
import type { ServerResponse } from 'node:http';

export interface EventStreamsOptions {
  maxPerUser: number;
  maxStreams: number;
  heartbeatMs: number;
  minIntervalMs: number;
  /** the text of a state event's `state` for a step */
  stateOf: (seq: number) => string;
}

/** A stream whose client reads nothing is closed once this much waits in its buffer. */
const MAX_BUFFERED_BYTES = 64 * 1024;
/** setTimeout's longest delay; a token that lives longer is checked again when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

class EventStream {
  sentSeq = -1;
  pendingSeq = -1;
  lastSentAt = 0;
  flushTimer: NodeJS.Timeout | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
  closed = false;

  constructor(
    readonly userId: number,
    readonly response: ServerResponse,
  ) {}

  write(text: string): void {
    if (this.closed) return;
    if (this.response.writableLength > MAX_BUFFERED_BYTES) {
      this.response.destroy();
      return;
    }
    this.response.write(text);
  }
}

export class EventStreams {
  private readonly byUser = new Map<number, EventStream[]>();
  private count = 0;
  private closing = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: EventStreamsOptions) {
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.count;
  }

  /** Users with at least one open stream here. */
  users(): number[] {
    return [...this.byUser.keys()];
  }

  /** Whether another stream may open on this instance. */
  hasRoom(): boolean {
    return this.count < this.options.maxStreams;
  }

  /**
   * Takes over a response whose SSE headers are written, unless its client is already gone (false).
   * The user's oldest stream closes when this one is one too many; `expiresAt` (epoch ms) closes it
   * when the caller's token expires.
   */
  open(userId: number, response: ServerResponse, expiresAt: number | undefined): boolean {
    // A client that hung up while the stream was being set up: its 'close' has already fired.
    if (response.destroyed || response.writableEnded) return false;
    // Shutting down: a stream opened now (a keep-alive connection's late request) would hold the server open.
    if (this.closing) {
      response.end();
      return false;
    }
    const stream = new EventStream(userId, response);
    const streams = this.byUser.get(userId) ?? [];
    streams.push(stream);
    this.byUser.set(userId, streams);
    this.count += 1;
    response.on('close', () => this.remove(stream));
    while (streams.length > this.options.maxPerUser) this.end(streams[0]!);
    if (expiresAt !== undefined) this.closeAt(stream, expiresAt);
    return true;
  }

  /** The user's mailbox reached `seq`: each of their streams says so (coalesced). */
  notify(userId: number, seq: number): void {
    for (const stream of this.byUser.get(userId) ?? []) {
      if (seq <= Math.max(stream.sentSeq, stream.pendingSeq)) continue;
      stream.pendingSeq = seq;
      const wait = stream.lastSentAt + this.options.minIntervalMs - Date.now();
      if (wait <= 0) this.flush(stream);
      else stream.flushTimer ??= setTimeout(() => this.flush(stream), wait);
    }
  }

  /** Ends every stream (shutdown): clients reconnect to another instance. */
  closeAll(): void {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const streams of [...this.byUser.values()]) for (const stream of [...streams]) this.end(stream);
  }

  private flush(stream: EventStream): void {
    clearTimeout(stream.flushTimer);
    stream.flushTimer = undefined;
    if (stream.pendingSeq <= stream.sentSeq) return;
    stream.write(`event: state\ndata: ${JSON.stringify({ state: this.options.stateOf(stream.pendingSeq) })}\n\n`);
    stream.sentSeq = stream.pendingSeq;
    stream.lastSentAt = Date.now();
  }

  private beat(): void {
    for (const streams of this.byUser.values()) for (const stream of streams) stream.write(': keep-alive\n\n');
  }

  private closeAt(stream: EventStream, expiresAt: number): void {
    const delay = expiresAt - Date.now();
    if (delay <= 0) {
      this.end(stream);
      return;
    }
    stream.expiryTimer = setTimeout(() => this.closeAt(stream, expiresAt), Math.min(delay, MAX_TIMER_MS));
  }

  private end(stream: EventStream): void {
    if (stream.closed) return;
    this.remove(stream);
    stream.response.end();
  }

  private remove(stream: EventStream): void {
    if (stream.closed) return;
    stream.closed = true;
    clearTimeout(stream.flushTimer);
    clearTimeout(stream.expiryTimer);
    this.count -= 1;
    const streams = this.byUser.get(stream.userId) ?? [];
    const index = streams.indexOf(stream);
    if (index >= 0) streams.splice(index, 1);
    if (streams.length === 0) this.byUser.delete(stream.userId);
  }
}
