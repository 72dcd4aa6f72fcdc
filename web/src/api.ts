/**
 * The public API as the page uses it: fetch with the bearer token (when signed in) and plain-words errors.
 * Every path, parameter, body and answer is typed by api-types.d.ts, generated from /openapi.json
 * (`npm run api:types`), so a change to the API that the page does not follow fails `npm run lint`.
 */
import type { components, paths } from './api-types.js';
import { chunksOf } from './batch.js';
import { plainErrorOf } from './errors.js';

type Schemas = components['schemas'];

export type Message = Schemas['PrivateMessage'];
/** A message as one user's mailbox shows it: with its time, conversation and both addresses. */
export type MailMessage = Schemas['MailboxMessage'];
export type MailboxPage = Schemas['MailboxPage'];
export type MailboxChanges = Schemas['MailboxChanges'];
export type ClientConfig = Schemas['ClientConfig'];
export type NewMail = Schemas['MailboxMessageCreate'];
export type FolderCount = Schemas['FolderCount'];
export type Folder = FolderCount['folder'];
export type User = Schemas['User'];
/** What PUT /msg/list/ changes; an absent flag leaves that part of each message as it is. */
export type BatchFlags = Omit<Schemas['PrivateMessageUpdate'], 'message_id_list'>;

type Method = 'get' | 'post' | 'put';
/** The methods a path of the document has. */
type MethodOf<P extends keyof paths> = { [M in Method]: paths[P][M] extends { responses: unknown } ? M : never }[Method];
type Operation<P extends keyof paths, M extends Method> = paths[P][M];
type JsonInput<Content> = Content extends { 'application/json': infer Body } ? { json: Body } : never;
type FormInput<Content> = Content extends { 'application/x-www-form-urlencoded': infer Form } ? { form: Form } : never;
/** What call() takes for an operation: its path parameters, its query, and its body as JSON or as a form, whichever it accepts. */
type Input<O> = (O extends { parameters: { path: infer Path } } ? { path: Path } : { path?: undefined }) &
  (O extends { parameters: { query?: infer Query } } ? { query?: Query } : object) &
  (O extends { requestBody: { content: infer Content } } ? JsonInput<Content> | FormInput<Content> : object);
/** What an operation answers with 200 (or 201, for what it creates). */
type Answer<O> = O extends { responses: { 200: { content: { 'application/json': infer Body } } } }
  ? Body
  : O extends { responses: { 201: { content: { 'application/json': infer Body } } } }
    ? Body
    : never;

type Scalar = string | number | boolean;

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** `{name}` segments filled in, and the defined query values appended. */
function urlOf(template: string, path: Record<string, unknown> | undefined, query: Record<string, unknown> | undefined): string {
  const url = template.replace(/\{(\w+)\}/g, (_segment, name: string) => {
    const value = path?.[name];
    if (!isScalar(value)) throw new Error(`${template}: no value for {${name}}`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) if (isScalar(value)) search.set(name, String(value));
  const text = search.toString();
  return text === '' ? url : `${url}?${text}`;
}

function formOf(fields: Record<string, unknown>): URLSearchParams {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (isScalar(value)) form.set(name, String(value));
  return form;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class Api {
  /** the bearer token when signed in; undefined when authentication is off */
  token: string | undefined;
  /**
   * Told after every request whether the server answered (a status below 500): the page clears a
   * "cannot reach the server" banner as soon as the server is back, not at the person's next click.
   */
  onReach: ((reached: boolean) => void) | undefined;

  /** One operation of the document: `call('get', '/users/{user_id}', { path: { user_id: 7 } })` answers a User. */
  call<P extends keyof paths, M extends MethodOf<P>>(method: M, path: P, input: Input<Operation<P, M>>): Promise<Answer<Operation<P, M>>> {
    // The generic Input is an intersection TypeScript cannot narrow here; its parts are read as plain records.
    const parts = input as { path?: Record<string, unknown>; query?: Record<string, unknown>; json?: unknown; form?: Record<string, unknown> };
    const url = urlOf(path, parts.path, parts.query);
    return this.request(method.toUpperCase(), url, parts.json, parts.form ? formOf(parts.form) : undefined);
  }

  async request<T>(method: string, path: string, body?: unknown, form?: URLSearchParams): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = form.toString();
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: payload ?? null, cache: 'no-store' });
    } catch {
      this.onReach?.(false);
      throw new ApiError(0, 'Cannot reach the server: check your connection and try again.');
    }
    this.onReach?.(response.status < 500);
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw new ApiError(response.status, plainErrorOf(response.status, parsed));
    return parsed as T;
  }

  /** GET /auth/config: the authentication mode and whether sign-up is open, in a few bytes (not the whole OpenAPI document). */
  authConfig(): Promise<ClientConfig> {
    return this.call('get', '/auth/config', {});
  }

  /** POST /token (the OAuth2 password form); returns the access token. */
  async signIn(email: string, password: string): Promise<string> {
    const answer = await this.call('post', '/token', { form: { username: email, password } });
    return answer.access_token;
  }

  /** POST /users/: a new account (sign in afterwards). */
  signUp(email: string, password: string): Promise<User> {
    return this.call('post', '/users/', { json: { email, password } });
  }

  users(): Promise<User[]> {
    return this.call('get', '/users/', { query: { limit: 1000 } });
  }

  user(id: number): Promise<User> {
    return this.call('get', '/users/{user_id}', { path: { user_id: id } });
  }

  folders(userId: number): Promise<FolderCount[]> {
    return this.call('get', '/users/{user_id}/folders', { path: { user_id: userId } });
  }

  /** One page of a folder, newest first; `q` searches within it. The page carries the mailbox state it was read at. */
  messages(userId: number, folder: Folder, limit: number, options: { cursor?: string | undefined; q?: string | undefined } = {}): Promise<MailboxPage> {
    const query = { folder, limit, ...(options.cursor ? { cursor: options.cursor } : {}), ...(options.q ? { q: options.q } : {}) };
    return this.call('get', '/users/{user_id}/messages', { path: { user_id: userId }, query });
  }

  message(userId: number, messageId: number): Promise<MailMessage> {
    return this.call('get', '/users/{user_id}/messages/{message_id}', { path: { user_id: userId, message_id: messageId } });
  }

  thread(userId: number, threadId: number): Promise<MailMessage[]> {
    return this.call('get', '/users/{user_id}/threads/{thread_id}', { path: { user_id: userId, thread_id: threadId } }).then((answer) => answer.messages);
  }

  /** POST /users/{id}/messages: a new conversation (to_email) or a reply (in_reply_to); answers the sender's copy. */
  send(fromUserId: number, mail: NewMail): Promise<MailMessage> {
    return this.call('post', '/users/{user_id}/messages', { path: { user_id: fromUserId }, json: mail });
  }

  changes(userId: number, since: string): Promise<MailboxChanges> {
    return this.call('get', '/users/{user_id}/changes', { path: { user_id: userId }, query: { since, limit: 500 } });
  }

  /**
   * GET /users/{id}/events, left open: the caller reads the body as a stream. fetch() rather than
   * EventSource, because only fetch sends the Authorization header (no token in a URL).
   */
  async events(userId: number, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(`/users/${encodeURIComponent(String(userId))}/events`, { headers, signal, cache: 'no-store' });
    if (!response.ok) {
      const parsed: unknown = await response.json().catch(() => undefined);
      throw new ApiError(response.status, plainErrorOf(response.status, parsed));
    }
    return response;
  }

  /**
   * PUT /msg/list/ in requests of at most 10 ids, one after the other. Each request is all or nothing;
   * when one fails, the error says how many messages the earlier ones already changed.
   */
  async update(ids: readonly number[], flags: BatchFlags): Promise<void> {
    let done = 0;
    for (const chunk of chunksOf(ids)) {
      try {
        await this.call('put', '/msg/list/', { json: { message_id_list: chunk, ...flags } });
      } catch (error) {
        if (done === 0 || !(error instanceof ApiError)) throw error;
        throw new ApiError(error.status, `${done} of ${ids.length} messages were changed, then: ${error.message}`);
      }
      done += chunk.length;
    }
  }
}

/** The user id a token stands for (its `sub`), read without verifying: the server verifies it on every request. */
export function userIdOfToken(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(json);
    const sub = typeof claims === 'object' && claims !== null && 'sub' in claims ? claims.sub : undefined;
    const id = Number(sub);
    return Number.isSafeInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}
