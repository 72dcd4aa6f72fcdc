/**
 * The mailbox controller: loads folders and searches, applies actions and live changes to the rows,
 * opens messages, and keeps the focus where the person is. Views (list-view.ts, reader.ts, compose.ts)
 * draw; this module decides. Every answer that fills the list is checked against the load generation
 * it was asked under (store.ts), so a late answer for a folder no longer shown is dropped.
 */
import { type Api, ApiError, type Folder, type MailMessage } from './api.js';
import { act, canUndo, dismissToast, initActions, undo } from './actions.js';
import { openCompose, openReply, renderDraftMark, resetCompose } from './compose.js';
import { announce, byId, clearError, showError, showStatus } from './dom.js';
import {
  clearRows,
  initList,
  listUi,
  openButtonOf,
  renderCounts,
  renderList,
  renderListState,
  renderRows,
  renderTitle,
  renderToolbar,
  scrolledDown,
  scrollListToTop,
} from './list-view.js';
import { LiveSync } from './live.js';
import { closeReader, focusReader, readerUi, showInReader, shownMessage, updateShown } from './reader.js';
import { belongsHere, FOLDER_NAMES, PAGE_SIZE, rememberAddresses, removeRows, rowById, store, upsertRows, withinLoaded } from './store.js';
import type { Action } from './undo.js';

export interface MailboxHandlers {
  /** the session ended (401 with a token): back to sign-in */
  sessionEnded(): void;
}

let api: Api;
let handlers: MailboxHandlers;
let live: LiveSync | undefined;
let countsAsked = 0;
let readerAsked = 0;
let sentAddressesFetched = false;

/** Shows what went wrong; answers true when it was the end of the session (handled by signing out). */
export function reportFailure(error: unknown): boolean {
  if (error instanceof ApiError && error.status === 401 && store.session?.token) {
    handlers.sessionEnded();
    return true;
  }
  const reach = error instanceof ApiError && (error.status === 0 || error.status >= 500);
  showError(error instanceof Error ? error.message : String(error), { kind: reach ? 'reach' : 'other' });
  return false;
}

// A folder that failed to load is tried again by itself, less and less often, until it loads (or
// the person moves on); "Try again" does it at once. The banner stays until the folder is loaded.
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let retries = 0;
function scheduleRetry(): void {
  clearTimeout(retryTimer);
  const generation = store.generation;
  retryTimer = setTimeout(() => {
    if (store.phase === 'failed' && store.generation === generation && store.session) void retryLoad();
  }, Math.min(30_000, 2_000 * 2 ** retries));
  retries += 1;
}

/** The server answers again: a folder that could not be loaded is tried now rather than at the next timer. */
export function serverBack(): void {
  if (store.phase !== 'failed' || !store.session) return;
  clearTimeout(retryTimer);
  // After the current answer's handlers: the retry is not itself what told us the server is back.
  retryTimer = setTimeout(() => {
    if (store.phase === 'failed') void retryLoad();
  }, 500);
}

// --- loading -----------------------------------------------------------------------------------

async function refreshCounts(): Promise<void> {
  const session = store.session;
  if (!session) return;
  // Counts asked later win: an earlier answer arriving last would show stale numbers.
  const asked = ++countsAsked;
  try {
    const counts = await api.folders(session.userId);
    if (asked !== countsAsked || store.session !== session) return;
    store.counts = new Map(counts.map((count) => [count.folder, count]));
    renderCounts();
  } catch (error) {
    if (asked === countsAsked && store.session === session) reportFailure(error);
  }
}

/**
 * Shows a folder (or a search in it): the list is emptied at once and says it is loading, so rows of
 * the folder before can neither be seen under the new name nor acted on while the new one loads.
 */
export async function showFolder(folder: Folder, query = ''): Promise<void> {
  clearTimeout(retryTimer);
  retries = 0;
  clearError('list');
  store.folder = folder;
  store.query = query;
  store.generation += 1;
  store.rows = [];
  store.nextCursor = null;
  store.state = undefined;
  store.selected.clear();
  store.pending = [];
  store.current = undefined;
  store.phase = 'loading';
  store.loadError = '';
  if (store.openId !== undefined) {
    store.openId = undefined;
    closeReader();
  }
  clearRows();
  renderList();
  renderTitle();
  await Promise.all([loadFirstPage(), refreshCounts()]);
}

async function loadFirstPage(): Promise<void> {
  const session = store.session;
  if (!session) return;
  const generation = store.generation;
  try {
    const page = await api.messages(session.userId, store.folder, PAGE_SIZE, { q: store.query || undefined });
    // Late: the person has moved on to another folder or search, whose own answer fills the list.
    if (generation !== store.generation) return;
    store.rows = page.messages;
    store.nextCursor = page.next_cursor;
    store.state = page.state;
    store.phase = 'loaded';
    retries = 0;
    clearError('list');
    rememberAddresses(page.messages);
    renderList();
    // For measuring: the moment the first list of this page load is on screen (test/web/first-load).
    if (performance.getEntriesByName('inbox:first-list').length === 0) performance.mark('inbox:first-list');
    announce(store.rows.length === 0 ? listUi.listState.textContent?.trim() ?? '' : `${FOLDER_NAMES[store.folder]}: ${store.rows.length}${store.nextCursor ? ' or more' : ''} messages`);
    live?.syncIfBehind();
  } catch (error) {
    if (generation !== store.generation) return;
    store.phase = 'failed';
    store.loadError = error instanceof Error ? error.message : String(error);
    renderList();
    if (!reportFailure(error)) {
      showError(store.loadError, { kind: 'list' });
      scheduleRetry();
    }
  }
}

export async function retryLoad(): Promise<void> {
  const hadFocus = document.activeElement === listUi.retry;
  store.generation += 1;
  store.phase = 'loading';
  renderListState();
  renderToolbar();
  await Promise.all([loadFirstPage(), refreshCounts()]);
  if (hadFocus) focusFirstRowOrHeading();
}

async function loadMore(): Promise<void> {
  const session = store.session;
  if (!session || store.nextCursor === null || listUi.loadMore.disabled) return;
  const generation = store.generation;
  const before = new Set(store.rows.map((row) => row.id));
  listUi.loadMore.disabled = true;
  try {
    const page = await api.messages(session.userId, store.folder, PAGE_SIZE, { cursor: store.nextCursor, q: store.query || undefined });
    if (generation !== store.generation) return;
    upsertRows(page.messages);
    store.nextCursor = page.next_cursor;
    rememberAddresses(page.messages);
    renderList();
    // The button may be gone (last page): the person continues from the first row just loaded.
    const first = page.messages.find((message) => !before.has(message.id));
    if (first && document.activeElement === listUi.loadMore && store.nextCursor === null) openButtonOf(first.id)?.focus();
    else if (first && listUi.loadMore.hidden) openButtonOf(first.id)?.focus();
  } catch (error) {
    if (generation === store.generation) reportFailure(error);
  } finally {
    listUi.loadMore.disabled = false;
  }
}

// --- focus ---------------------------------------------------------------------------------------

function focusFirstRowOrHeading(): void {
  const first = store.rows[0];
  const button = first ? openButtonOf(first.id) : null;
  if (button) {
    store.current = first?.id;
    button.focus();
  } else byId('folder-title', HTMLHeadingElement).focus();
}

function focusCurrentOrFirst(): void {
  const button = store.current === undefined ? null : openButtonOf(store.current);
  if (button) button.focus();
  else focusFirstRowOrHeading();
}

/**
 * Removes rows; when the focus (or the keyboard's place) was on one of them, it moves to the row that
 * takes its place, or the one before at the end of the list, or the folder's heading when none is left.
 */
function removeKeepingPlace(ids: readonly number[]): void {
  if (ids.length === 0) return;
  const gone = new Set(ids);
  const focusedRow = document.activeElement?.closest<HTMLLIElement>('#messages li.row');
  const focusedId = focusedRow ? Number(focusedRow.dataset.id) : undefined;
  const anchor = focusedId !== undefined && gone.has(focusedId) ? focusedId : store.current !== undefined && gone.has(store.current) ? store.current : undefined;
  let successor: number | undefined;
  if (anchor !== undefined) {
    const index = store.rows.findIndex((row) => row.id === anchor);
    successor = store.rows.slice(index + 1).find((row) => !gone.has(row.id))?.id ?? store.rows.slice(0, index).reverse().find((row) => !gone.has(row.id))?.id;
  }
  removeRows(ids);
  if (anchor === undefined) return;
  store.current = successor;
  renderRows();
  if (focusedId !== undefined && gone.has(focusedId)) {
    if (successor !== undefined) openButtonOf(successor)?.focus();
    else byId('folder-title', HTMLHeadingElement).focus();
  }
}

// --- live changes --------------------------------------------------------------------------------

/** Messages now as given (from the changes feed, an action or an undo): rows updated, added or removed in place. */
function applyMessages(messages: readonly MailMessage[], destroyed: readonly number[], how: 'live' | 'action' | 'undo'): MailMessage[] {
  if (how !== 'live') store.edits += 1;
  const leaving: number[] = [...destroyed];
  const arriving: MailMessage[] = [];
  for (const message of messages) {
    const existing = rowById(message.id);
    if (belongsHere(message)) {
      if (existing) upsertRows([message]);
      // A search result can only be judged by the server: new mail is left for the next search.
      else if (!store.query && withinLoaded(message.id) && store.phase === 'loaded') arriving.push(message);
    } else if (existing) leaving.push(message.id);
    if (message.id === store.openId) updateShown(message);
  }
  removeKeepingPlace(leaving);
  const fresh = arriving.filter((message) => !store.pending.some((waiting) => waiting.id === message.id));
  if (how === 'live' && fresh.length > 0 && scrolledDown()) {
    // The person is reading further down: new mail waits behind a button instead of pushing rows away.
    store.pending = [...store.pending, ...fresh];
  } else upsertRows(fresh);
  renderList();
  if (how === 'live') {
    const created = fresh.filter((message) => message.folder === 'inbox').length;
    if (created > 0) announce(created === 1 ? `New message from ${fresh[0]?.from_email ?? ''}` : `${created} new messages`);
  }
  return fresh;
}

function applyLive(changed: MailMessage[], destroyed: number[], state: string): void {
  if (!store.session) return;
  rememberAddresses(changed);
  store.state = state;
  applyMessages(changed, destroyed, 'live');
  void refreshCounts();
}

export function showPending(): void {
  upsertRows(store.pending);
  const newest = store.pending.reduce<number | undefined>((max, message) => (max === undefined || message.id > max ? message.id : max), undefined);
  store.pending = [];
  renderList();
  scrollListToTop();
  if (newest !== undefined) {
    store.current = newest;
    renderRows();
    openButtonOf(newest)?.focus();
  }
}

// --- opening messages ----------------------------------------------------------------------------

export function openMessage(id: number): void {
  const session = store.session;
  const message = rowById(id);
  if (!session || !message) return;
  store.openId = id;
  store.current = id;
  renderRows();
  showInReader(message);
  focusReader();
  // Opening marks it read, as mail clients do (the API never does it by itself).
  if (message.unread === 'Y' && message.folder !== 'sent') {
    api.update([id], { read: true }).then(
      () => {
        const now = rowById(id);
        if (now) applyMessages([{ ...now, unread: 'N' }], [], 'action');
        else if (shownMessage()?.id === id) updateShown({ ...message, unread: 'N' });
        void refreshCounts();
      },
      (error: unknown) => reportFailure(error),
    );
  }
  const asked = ++readerAsked;
  api.thread(session.userId, message.thread_id).then(
    (conversation) => {
      // Another message was opened meanwhile (or none): this conversation is no longer wanted.
      if (asked !== readerAsked || store.openId !== id) return;
      rememberAddresses(conversation);
      showInReader(rowById(id) ?? message, conversation);
    },
    (error: unknown) => {
      if (asked === readerAsked && store.openId === id) reportFailure(error);
    },
  );
}

/** Back to the list; the row that was open gets the focus. Answers whether a message was open. */
export function closeMessage(): boolean {
  const id = store.openId;
  if (id === undefined) return false;
  readerAsked += 1;
  store.openId = undefined;
  closeReader();
  renderRows();
  const button = openButtonOf(id);
  if (button) {
    store.current = id;
    button.focus();
  } else focusFirstRowOrHeading();
  return true;
}

// --- actions -------------------------------------------------------------------------------------

const ALLOWED: Record<Action, readonly string[]> = {
  read: ['inbox', 'spam', 'trash'],
  unread: ['inbox', 'spam', 'trash'],
  trash: ['inbox', 'spam'],
  restore: ['trash'],
  spam: ['inbox', 'trash'],
  'not-spam': ['spam'],
};

/** What an action from the keyboard or the toolbar applies to: the open message, else the selection, else the row the keyboard is on. */
function targets(source: 'selection' | 'reader' | 'keyboard'): MailMessage[] {
  if (source === 'reader' || (source === 'keyboard' && store.openId !== undefined)) {
    const open = shownMessage();
    return open ? [open] : [];
  }
  const selected = store.rows.filter((row) => store.selected.has(row.id));
  if (source === 'selection' || selected.length > 0) return selected;
  const current = store.current === undefined ? undefined : rowById(store.current);
  return current ? [current] : [];
}

export async function runAction(action: Action, source: 'selection' | 'reader' | 'keyboard'): Promise<void> {
  if (store.busy || store.phase !== 'loaded') return;
  const chosen = targets(source).filter((message) => ALLOWED[action].includes(message.folder));
  if (chosen.length === 0) {
    if (source === 'keyboard') announce('Nothing to do that to here.');
    return;
  }
  const fromReader = source === 'reader' || (source === 'keyboard' && store.openId !== undefined);
  const done = await act(chosen, action);
  if (!done) return;
  const id = store.openId;
  if (fromReader && id !== undefined && chosen.some((message) => message.id === id)) {
    // A message moved out of the folder, or marked unread, is put away: back to the list, in its place.
    const stillHere = rowById(id) !== undefined;
    if (!stillHere || action === 'unread') {
      store.openId = undefined;
      closeReader();
      if (stillHere) store.current = id;
      renderRows();
      focusCurrentOrFirst();
    }
  }
}

function actionsChanged(messages: MailMessage[], cause: 'action' | 'undo'): void {
  // A move empties the selection of what left; read changes keep it (the next action may follow).
  const fresh = applyMessages(messages, [], cause);
  if (cause === 'undo') {
    // The restored rows are where the person continues.
    const first = fresh.map((message) => message.id).sort((a, b) => b - a)[0] ?? messages.find((message) => rowById(message.id))?.id;
    if (first !== undefined) {
      store.current = first;
      renderRows();
      openButtonOf(first)?.focus();
    }
  } else if (document.activeElement === document.body || document.activeElement?.matches(':disabled')) {
    // The button pressed is disabled now that nothing is selected: the person goes on from their row.
    focusCurrentOrFirst();
  }
  void refreshCounts();
}

// --- the mailbox as a whole ----------------------------------------------------------------------

export function initMailbox(client: Api, mailboxHandlers: MailboxHandlers): void {
  api = client;
  handlers = mailboxHandlers;
  initList({
    open: (id) => openMessage(id),
    selectionChanged: () => renderList(),
    focusRow: (id) => {
      store.current = id;
      for (const item of document.querySelectorAll('#messages li.current')) item.classList.remove('current');
      document.querySelector(`#messages li[data-id="${id}"]`)?.classList.add('current');
    },
  });
  initActions(api, {
    changed: actionsChanged,
    failed: (error) => {
      reportFailure(error);
      // Some requests of a split batch may have gone through: read what is true now.
      void live?.sync();
    },
    busy: (on) => {
      store.busy = on;
      renderToolbar();
    },
  });
  listUi.selectAll.addEventListener('change', () => {
    store.selected.clear();
    if (listUi.selectAll.checked) for (const row of store.rows) if (row.folder !== 'sent') store.selected.add(row.id);
    renderList();
  });
  for (const button of listUi.actionButtons) button.addEventListener('click', () => void runAction(button.dataset.action as Action, 'selection'));
  for (const button of readerUi.actionButtons) button.addEventListener('click', () => void runAction(button.dataset.readerAction as Action, 'reader'));
  listUi.loadMore.addEventListener('click', () => void loadMore());
  listUi.retry.addEventListener('click', () => void retryLoad());
  listUi.newMail.addEventListener('click', showPending);
  readerUi.back.addEventListener('click', () => closeMessage());
  readerUi.reply.addEventListener('click', () => {
    const open = shownMessage();
    if (open) void openReply(open, readerUi.reply);
  });
  for (const button of listUi.folderButtons) {
    button.addEventListener('click', () => {
      const folder = button.dataset.folder as Folder;
      byId('search-input', HTMLInputElement).value = '';
      clearError();
      void showFolder(folder);
    });
  }
  window.addEventListener('focus', () => {
    // Back to the tab: if the stream was down meanwhile, the changes feed catches up.
    if (store.session) void live?.sync();
  });
}

export async function enterMailbox(): Promise<void> {
  const session = store.session;
  if (!session) return;
  sentAddressesFetched = false;
  live = new LiveSync(api, session.userId, {
    knownState: () => store.state,
    generation: () => store.generation,
    edits: () => store.edits,
    apply: applyLive,
    reload: () => void showFolder(store.folder, store.query),
    connected: () => void refreshCounts(),
    ended: () => handlers.sessionEnded(),
  });
  live.start();
  renderDraftMark();
  await showFolder('inbox');
}

/** Stops everything of the mailbox: the stream, the list, the reader, the compose form, the toast. */
export function leaveMailbox(): void {
  live?.stop();
  live = undefined;
  store.generation += 1;
  store.rows = [];
  store.pending = [];
  store.selected.clear();
  store.counts.clear();
  store.state = undefined;
  store.openId = undefined;
  store.current = undefined;
  store.query = '';
  store.phase = 'idle';
  store.addresses.clear();
  closeReader();
  clearRows();
  resetCompose();
  dismissToast();
  renderTitle();
}

/** After a send: the mailbox catches up at once (the push would tell too, a moment later), and an open conversation shows the reply. */
export function afterSend(message: MailMessage): void {
  showStatus(`Message sent to ${message.to_email}.`);
  store.addresses.add(message.to_email);
  void live?.sync();
  const open = shownMessage();
  const session = store.session;
  if (!open || !session || open.thread_id !== message.thread_id) return;
  const asked = ++readerAsked;
  const id = open.id;
  api.thread(session.userId, message.thread_id).then(
    (conversation) => {
      if (asked === readerAsked && store.openId === id) showInReader(shownMessage() ?? open, conversation);
    },
    () => {},
  );
}

/** Compose opened: with authentication on there is no user list, so the people written to before are suggested. */
export function gatherAddresses(): void {
  const session = store.session;
  if (!session || sentAddressesFetched) return;
  sentAddressesFetched = true;
  api.messages(session.userId, 'sent', 100).then(
    (page) => rememberAddresses(page.messages),
    () => {
      sentAddressesFetched = false;
    },
  );
}

// --- keyboard ------------------------------------------------------------------------------------

export function moveCurrent(delta: 1 | -1): void {
  if (store.rows.length === 0) return;
  const index = store.rows.findIndex((row) => row.id === store.current);
  const next = store.rows[index === -1 ? 0 : Math.min(store.rows.length - 1, Math.max(0, index + delta))];
  if (!next) return;
  store.current = next.id;
  if (store.openId !== undefined) {
    if (next.id !== store.openId) openMessage(next.id);
    return;
  }
  renderRows();
  openButtonOf(next.id)?.focus();
}

export function toggleCurrent(): void {
  const id = store.current ?? store.rows[0]?.id;
  const row = id === undefined ? undefined : rowById(id);
  if (!row || row.folder === 'sent') return;
  store.current = row.id;
  if (store.selected.has(row.id)) store.selected.delete(row.id);
  else store.selected.add(row.id);
  renderList();
  if (store.openId === undefined) openButtonOf(row.id)?.focus();
}

export function openCurrent(): void {
  const focused = document.activeElement?.closest<HTMLLIElement>('#messages li.row');
  const id = focused ? Number(focused.dataset.id) : store.current;
  if (id !== undefined) openMessage(id);
}

export function replyToOpen(): void {
  const open = shownMessage();
  if (open) void openReply(open, readerUi.reply);
}

export function undoLast(): void {
  if (canUndo()) void undo();
}

export function compose(): void {
  void openCompose(document.activeElement instanceof HTMLElement ? document.activeElement : null);
}
