/**
 * Keeps the open mailbox in step with changes made elsewhere (another tab, another device, new mail):
 * the push stream (GET /users/{id}/events, read with fetch so the token goes in a header) says when the
 * mailbox state moves; the changes feed (GET /users/{id}/changes?since=) then says which messages were
 * created, updated or destroyed, and only those are fetched again. The stream reconnects with a growing,
 * jittered delay when it ends; a state the server can no longer answer for (410) reloads the folder.
 */
import { type Api, ApiError, type MailMessage } from './api.js';
import { backoffMs, SseParser, stateOfEvent } from './sse.js';

/** Beyond this many messages to fetch one by one, reloading the folder is cheaper. */
const MAX_FETCHES = 100;
const PARALLEL_FETCHES = 4;

export interface LiveHandlers {
  /** the state the shown rows are in step with (undefined while none is loaded) */
  knownState(): string | undefined;
  /** the load generation: changes read under an older one are not applied */
  generation(): number;
  /**
   * How many changes this page made itself (actions, undo, marking read): a message fetched before
   * one of them may be older than the row it would replace, so the changes are read again instead.
   */
  edits(): number;
  /** what changed; `state` is the state the rows are in step with afterwards */
  apply(changed: MailMessage[], destroyed: number[], state: string): void;
  /** the changes cannot be followed (410, or too many): load the folder afresh */
  reload(): void;
  /** the stream is connected again after a break */
  connected(): void;
  /** the session is over (401): stop */
  ended(error: ApiError): void;
}

export class LiveSync {
  private controller: AbortController | undefined;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private syncing: Promise<void> | undefined;
  private again = false;
  /** the newest state the stream told */
  private latest: string | undefined;

  constructor(
    private readonly api: Api,
    private readonly userId: number,
    private readonly handlers: LiveHandlers,
  ) {}

  start(): void {
    this.stop();
    this.controller = new AbortController();
    void this.listen(this.controller.signal);
  }

  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async listen(signal: AbortSignal): Promise<void> {
    try {
      const response = await this.api.events(this.userId, signal);
      const body = response.body;
      if (!body) throw new Error('no stream');
      const reader = body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          const state = stateOfEvent(event);
          if (state === undefined) continue;
          // Back after a break: what the break hid (counts, the banner) is read again. Not on the first connection: the load just read it.
          if (this.failures > 0) this.handlers.connected();
          this.failures = 0;
          this.latest = state;
          if (state !== this.handlers.knownState()) this.sync();
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) {
        this.handlers.ended(error);
        return;
      }
    }
    if (signal.aborted) return;
    // The stream ended (server restart, token expiry, network): come back after a while.
    this.failures += 1;
    this.timer = setTimeout(() => {
      if (!signal.aborted) void this.listen(signal);
    }, backoffMs(this.failures - 1));
  }

  /** After a fresh load: catch up if the stream already told of a newer state than the load read. */
  syncIfBehind(): void {
    if (this.latest !== undefined && this.latest !== this.handlers.knownState()) void this.sync();
  }

  /** Follows the changes from the known state; one run at a time, and once more if asked meanwhile. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        await this.follow();
      } while (this.again);
    })().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async follow(): Promise<void> {
    for (;;) {
      const since = this.handlers.knownState();
      const generation = this.handlers.generation();
      const edits = this.handlers.edits();
      if (since === undefined) return;
      let changes;
      try {
        changes = await this.api.changes(this.userId, since);
      } catch (error) {
        if (error instanceof ApiError && error.status === 410) this.handlers.reload();
        else if (error instanceof ApiError && error.status === 401) this.handlers.ended(error);
        return;
      }
      if (generation !== this.handlers.generation()) return;
      const ids = [...changes.created, ...changes.updated];
      if (ids.length > MAX_FETCHES) {
        this.handlers.reload();
        return;
      }
      const fetched = await this.fetchAll(ids);
      if (fetched === undefined || generation !== this.handlers.generation()) return;
      // This page changed messages meanwhile: what was fetched may predate that. Read again from the same state.
      if (edits !== this.handlers.edits()) continue;
      // A message that cannot be read any more left the mailbox between the two requests.
      const gone = ids.filter((id) => !fetched.some((message) => message.id === id));
      this.handlers.apply(fetched, [...changes.destroyed, ...gone], changes.new_state);
      if (!changes.has_more_changes) return;
    }
  }

  private async fetchAll(ids: readonly number[]): Promise<MailMessage[] | undefined> {
    const found: MailMessage[] = [];
    const queue = [...ids];
    let failed = false;
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined && !failed; id = queue.shift()) {
        try {
          found.push(await this.api.message(this.userId, id));
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) failed = true;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_FETCHES, ids.length) }, worker));
    return failed ? undefined : found;
  }
}
