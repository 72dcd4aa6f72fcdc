/** The public API as the page uses it: fetch with the bearer token (when signed in) and plain-words errors. */
import { chunksOf } from './batch.js';
import { plainErrorOf } from './errors.js';

export type Folder = 'inbox' | 'trash' | 'spam';

export interface Message {
  id: number;
  from_userid: number;
  to_userid: number;
  subject: string;
  message: string;
  folder: string;
  unread: 'Y' | 'N';
}

export interface MailboxPage {
  messages: Message[];
  next_cursor: string | null;
}

export interface FolderCount {
  folder: Folder;
  total: number;
  unread: number;
}

export interface User {
  id: number;
  email: string;
  is_active: boolean;
}

/** What PUT /msg/list/ changes; an absent flag leaves that part of each message as it is. */
export interface BatchFlags {
  read?: boolean;
  trash?: boolean;
  spam?: boolean;
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
      throw new ApiError(0, 'Cannot reach the server: check your connection and try again.');
    }
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

  /** true when the server signs people in (AUTH_MODE optional or required): its OpenAPI document names a security scheme. */
  async authenticationIsOn(): Promise<boolean> {
    try {
      const document = await this.request<{ components?: { securitySchemes?: Record<string, unknown> } }>('GET', '/openapi.json');
      return Object.keys(document.components?.securitySchemes ?? {}).length > 0;
    } catch {
      // No document: ask a protected endpoint instead; a 401 means a token is needed.
      try {
        await this.request('GET', '/users/?limit=1');
        return false;
      } catch (error) {
        return error instanceof ApiError && error.status === 401;
      }
    }
  }

  /** POST /token (the OAuth2 password form); returns the access token. */
  async signIn(email: string, password: string): Promise<string> {
    const form = new URLSearchParams({ username: email, password });
    const answer = await this.request<{ access_token: string }>('POST', '/token', undefined, form);
    return answer.access_token;
  }

  users(): Promise<User[]> {
    return this.request<User[]>('GET', '/users/?limit=1000');
  }

  user(id: number): Promise<User> {
    return this.request<User>('GET', `/users/${id}`);
  }

  folders(userId: number): Promise<FolderCount[]> {
    return this.request<FolderCount[]>('GET', `/users/${userId}/folders`);
  }

  messages(userId: number, folder: Folder, limit: number, cursor?: string): Promise<MailboxPage> {
    const query = new URLSearchParams({ folder, limit: String(limit) });
    if (cursor) query.set('cursor', cursor);
    return this.request<MailboxPage>('GET', `/users/${userId}/messages?${query.toString()}`);
  }

  send(fromUserId: number, toUserId: number, subject: string, message: string): Promise<Message> {
    return this.request<Message>('POST', '/msg/create/', { from_userid: fromUserId, to_userid: toUserId, subject, message });
  }

  /**
   * PUT /msg/list/ in requests of at most 10 ids, one after the other. Each request is all or nothing;
   * when one fails, the error says how many messages the earlier ones already changed.
   */
  async update(ids: readonly number[], flags: BatchFlags): Promise<void> {
    let done = 0;
    for (const chunk of chunksOf(ids)) {
      try {
        await this.request('PUT', '/msg/list/', { message_id_list: chunk, ...flags });
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
