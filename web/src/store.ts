/**
 * The page's state: who is signed in, which folder and search are shown, the rows loaded so far, the
 * selection, what is open. One object that the views read and the controller (mailbox.ts) changes.
 *
 * `generation` is the guard against late answers: every load of a folder or search takes a new number,
 * and an answer is used only while the number it was asked under is still current. Without it, a slow
 * Inbox answer arriving after the person switched to Spam would fill the Spam tab with Inbox rows.
 */
import type { ClientConfig, Folder, FolderCount, MailMessage } from './api.js';

export const FOLDERS: readonly Folder[] = ['inbox', 'sent', 'spam', 'trash'];
export const FOLDER_NAMES: Record<Folder, string> = { inbox: 'Inbox', sent: 'Sent', spam: 'Spam', trash: 'Trash' };
export const PAGE_SIZE = 25;

export interface Session {
  userId: number;
  /** the bearer token; absent when authentication is off */
  token?: string;
}

export type ListPhase = 'idle' | 'loading' | 'loaded' | 'failed';

export const store = {
  config: { auth_mode: 'off', sign_up: false, password_min_length: 8, token_ttl_seconds: null } as ClientConfig,
  session: undefined as Session | undefined,
  /** the mailbox owner's address */
  email: '',
  folder: 'inbox' as Folder,
  /** the search being shown ('' for none) */
  query: '',
  /** the loaded rows, newest first (by id, as the API pages them) */
  rows: [] as MailMessage[],
  nextCursor: null as string | null,
  /** the mailbox state the rows are in step with: changes are asked from it */
  state: undefined as string | undefined,
  generation: 0,
  /** changes this page made itself (actions, undo, marking read): see live.ts */
  edits: 0,
  phase: 'idle' as ListPhase,
  loadError: '',
  selected: new Set<number>(),
  /** the row the keyboard is on (j/k) */
  current: undefined as number | undefined,
  /** the message open in the reading pane */
  openId: undefined as number | undefined,
  counts: new Map<Folder, FolderCount>(),
  /** new mail that arrived while the person was scrolled down: shown on request ("2 new messages") */
  pending: [] as MailMessage[],
  /** an action is running: buttons wait */
  busy: false,
  /** every address seen: suggestions for the To field */
  addresses: new Set<string>(),
};

export function authenticationOn(): boolean {
  return store.config.auth_mode !== 'off';
}

export function rowById(id: number): MailMessage | undefined {
  return store.rows.find((row) => row.id === id);
}

/** Whether a message belongs in the folder shown (ignoring the search, which only the server can apply). */
export function belongsHere(message: MailMessage): boolean {
  return message.folder === store.folder;
}

/** Adds or replaces rows, keeping newest-first order. */
export function upsertRows(messages: readonly MailMessage[]): void {
  const byId = new Map(store.rows.map((row) => [row.id, row]));
  for (const message of messages) byId.set(message.id, message);
  store.rows = [...byId.values()].sort((a, b) => b.id - a.id);
}

export function removeRows(ids: Iterable<number>): void {
  const gone = new Set(ids);
  store.rows = store.rows.filter((row) => !gone.has(row.id));
  for (const id of gone) store.selected.delete(id);
  store.pending = store.pending.filter((message) => !gone.has(message.id));
}

/**
 * Whether a message that now belongs here falls within the pages already loaded: newer than the
 * oldest row, or every page is loaded. An older one arrives with "Load more", in its place.
 */
export function withinLoaded(id: number): boolean {
  const oldest = store.rows.at(-1);
  return store.nextCursor === null || (oldest !== undefined && id > oldest.id);
}

export function rememberAddresses(messages: readonly MailMessage[]): void {
  for (const message of messages) {
    store.addresses.add(message.from_email);
    store.addresses.add(message.to_email);
  }
}
