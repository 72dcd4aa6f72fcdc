/**
 * The folder list: rows, the toolbar, folder buttons with unread counts, the tab title and the list's
 * loading / empty / failed states. Rows are keyed by message id and updated in place: a live change or
 * an action touches only the rows it concerns, so the pages already loaded, the scroll position and the
 * keyboard focus all stay where they were.
 */
import type { MailMessage } from './api.js';
import { formatWhen } from './dates.js';
import { byId, el } from './dom.js';
import { FOLDER_NAMES, FOLDERS, store } from './store.js';

export interface ListHandlers {
  open(id: number): void;
  selectionChanged(): void;
  focusRow(id: number): void;
}

const ui = {
  mailbox: byId('mailbox', HTMLDivElement),
  listPane: byId('list-pane', HTMLElement),
  folderTitle: byId('folder-title', HTMLHeadingElement),
  searchInfo: byId('search-info', HTMLParagraphElement),
  searchText: byId('search-text', HTMLSpanElement),
  searchLabel: byId('search-label', HTMLLabelElement),
  searchInput: byId('search-input', HTMLInputElement),
  toolbar: byId('toolbar', HTMLDivElement),
  selectAll: byId('select-all', HTMLInputElement),
  selection: byId('selection', HTMLSpanElement),
  messages: byId('messages', HTMLUListElement),
  listState: byId('list-state', HTMLDivElement),
  listStateText: byId('list-state-text', HTMLParagraphElement),
  retry: byId('list-retry', HTMLButtonElement),
  loadMore: byId('load-more', HTMLButtonElement),
  newMail: byId('new-mail', HTMLButtonElement),
  actionButtons: [...document.querySelectorAll<HTMLButtonElement>('button[data-action]')],
  folderButtons: [...document.querySelectorAll<HTMLButtonElement>('button[data-folder]')],
};
export const listUi = ui;

let handlers: ListHandlers | undefined;
const rowElements = new Map<number, HTMLLIElement>();

export function initList(listHandlers: ListHandlers): void {
  handlers = listHandlers;
  // One listener for every row (rows come and go; the list stays).
  ui.messages.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const open = target?.closest<HTMLButtonElement>('button.open');
    if (open) handlers?.open(Number(open.dataset.id));
  });
  ui.messages.addEventListener('change', (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.classList.contains('pick')) return;
    const id = Number(box.dataset.id);
    if (box.checked) store.selected.add(id);
    else store.selected.delete(id);
    handlers?.selectionChanged();
  });
  ui.messages.addEventListener('focusin', (event) => {
    const row = event.target instanceof Element ? event.target.closest<HTMLLIElement>('li.row') : null;
    if (row) handlers?.focusRow(Number(row.dataset.id));
  });
  // Relative times ("3 min") age: refreshed each minute, in place.
  setInterval(refreshTimes, 60_000);
}

/** The text of a preview: the start of the body on one line (a body may be 50,000 characters). */
function previewOf(text: string): string {
  return Array.from(text.slice(0, 400).replace(/\s+/g, ' ').trim()).slice(0, 160).join('');
}

function subjectOf(message: MailMessage): string {
  return message.subject.trim() === '' ? '(no subject)' : message.subject;
}

/** The other party as the folder shows it: the sender, or in Sent the recipient. */
export function counterpartOf(message: MailMessage): string {
  return message.folder === 'sent' ? `To: ${message.to_email}` : message.from_email;
}

function timeElement(iso: string | null): HTMLTimeElement {
  const time = el('time', { class: 'when' });
  setTime(time, iso);
  return time;
}

export function setTime(time: HTMLTimeElement, iso: string | null): void {
  const when = formatWhen(iso, new Date());
  time.textContent = when?.text ?? '';
  if (when) {
    time.dateTime = when.iso;
    time.title = when.title;
  } else {
    time.removeAttribute('datetime');
    time.removeAttribute('title');
  }
}

function refreshTimes(): void {
  for (const time of document.querySelectorAll<HTMLTimeElement>('time[data-iso]')) setTime(time, time.dataset.iso ?? null);
}

function buildRow(message: MailMessage): HTMLLIElement {
  const time = timeElement(message.created_at);
  if (message.created_at) time.dataset.iso = message.created_at;
  const open = el(
    'button',
    { type: 'button', class: 'open', 'data-id': message.id, id: `open-${message.id}` },
    el('span', { class: 'who', dir: 'auto' }, counterpartOf(message)),
    time,
    el('span', { class: 'subject', dir: 'auto' }, subjectOf(message)),
    el('span', { class: 'preview', dir: 'auto' }, previewOf(message.message)),
    el('span', { class: 'visually-hidden read-state' }),
  );
  const item = el('li', { class: 'row', 'data-id': message.id });
  // Sent mail has no actions (trashing a sent message deletes it for good): no checkbox.
  if (message.folder !== 'sent') {
    const box = el('input', { type: 'checkbox', class: 'pick', 'data-id': message.id, id: `pick-${message.id}` });
    box.setAttribute('aria-label', `Select: ${subjectOf(message)}, from ${message.from_email}`);
    item.append(box);
  }
  item.append(open);
  return item;
}

function updateRow(item: HTMLLIElement, message: MailMessage): void {
  const unread = message.unread === 'Y';
  item.classList.toggle('unread', unread);
  const selected = store.selected.has(message.id);
  item.classList.toggle('selected', selected);
  item.classList.toggle('current', store.current === message.id);
  const box = item.querySelector<HTMLInputElement>('input.pick');
  if (box) box.checked = selected;
  const open = item.querySelector<HTMLButtonElement>('button.open');
  if (open) {
    if (store.openId === message.id) open.setAttribute('aria-current', 'true');
    else open.removeAttribute('aria-current');
  }
  const state = item.querySelector('.read-state');
  if (state) state.textContent = unread ? ', unread' : '';
}

/**
 * Brings the list in line with store.rows: new rows built, changed rows updated, gone rows removed,
 * nothing moved that is already in place (moving a node would take the focus off it).
 */
export function renderRows(): void {
  const wanted = new Set(store.rows.map((row) => row.id));
  for (const [id, item] of rowElements) {
    if (!wanted.has(id)) {
      item.remove();
      rowElements.delete(id);
    }
  }
  let previous: HTMLLIElement | null = null;
  for (const message of store.rows) {
    let item = rowElements.get(message.id);
    if (!item) {
      item = buildRow(message);
      rowElements.set(message.id, item);
    }
    updateRow(item, message);
    const expectedNext: Element | null = previous ? previous.nextElementSibling : ui.messages.firstElementChild;
    if (expectedNext !== item) {
      if (previous) previous.after(item);
      else ui.messages.prepend(item);
    }
    previous = item;
  }
}

export function clearRows(): void {
  rowElements.clear();
  ui.messages.replaceChildren();
}

export function rowElement(id: number): HTMLLIElement | undefined {
  return rowElements.get(id);
}

export function openButtonOf(id: number): HTMLButtonElement | null {
  return rowElements.get(id)?.querySelector<HTMLButtonElement>('button.open') ?? null;
}

function listStateText(): string {
  const name = FOLDER_NAMES[store.folder];
  if (store.phase === 'loading' && store.rows.length === 0) return store.query ? `Searching ${name}…` : `Loading ${name}…`;
  if (store.phase === 'failed') return `${name} could not be loaded. ${store.loadError}`;
  if (store.phase === 'loaded' && store.rows.length === 0) return store.query ? `No messages in ${name} match “${store.query}”.` : `No messages in ${name}.`;
  return '';
}

export function renderListState(): void {
  const text = listStateText();
  ui.listState.hidden = text === '';
  ui.listStateText.textContent = text;
  ui.retry.hidden = store.phase !== 'failed';
  ui.messages.setAttribute('aria-busy', String(store.phase === 'loading'));
  ui.loadMore.hidden = store.phase !== 'loaded' || store.nextCursor === null;
  const pending = store.pending.length;
  ui.newMail.hidden = pending === 0;
  ui.newMail.textContent = pending === 1 ? '1 new message' : `${pending} new messages`;
}

/** The toolbar follows the folder being shown or loaded, never the rows of the one before. */
export function renderToolbar(): void {
  const selectable = store.rows.filter((row) => row.folder !== 'sent');
  const count = [...store.selected].filter((id) => selectable.some((row) => row.id === id)).length;
  // Not disabled while an action runs (a second press is ignored instead): disabling the button just
  // pressed would throw the keyboard focus out of it.
  const ready = store.phase === 'loaded';
  ui.toolbar.setAttribute('aria-busy', String(store.busy));
  ui.toolbar.hidden = store.folder === 'sent';
  ui.selectAll.checked = selectable.length > 0 && count === selectable.length;
  ui.selectAll.indeterminate = count > 0 && count < selectable.length;
  ui.selectAll.disabled = selectable.length === 0 || !ready;
  ui.selection.textContent = count === 0 ? 'Select all' : `${count} selected`;
  for (const button of ui.actionButtons) {
    button.hidden = !(button.dataset.folders ?? '').split(' ').includes(store.folder);
    button.disabled = count === 0 || !ready;
  }
  ui.mailbox.classList.toggle('has-selection', count > 0);
}

export function renderFolderHead(): void {
  const name = FOLDER_NAMES[store.folder];
  ui.folderTitle.textContent = name;
  for (const button of ui.folderButtons) {
    if (button.dataset.folder === store.folder) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  ui.searchLabel.textContent = `Search ${name}`;
  ui.searchInput.placeholder = `Search ${name}`;
  ui.searchInfo.hidden = store.query === '';
  ui.searchText.textContent = store.query ? `Results for “${store.query}”` : '';
}

export function renderCounts(): void {
  for (const folder of FOLDERS) {
    const unread = store.counts.get(folder)?.unread ?? 0;
    const badge = document.querySelector<HTMLSpanElement>(`[data-count="${folder}"]`);
    if (badge) {
      badge.textContent = unread > 0 ? String(unread) : '';
      badge.hidden = unread === 0;
    }
    const button = ui.folderButtons.find((candidate) => candidate.dataset.folder === folder);
    button?.setAttribute('aria-label', unread > 0 ? `${FOLDER_NAMES[folder]}, ${unread} unread` : FOLDER_NAMES[folder]);
  }
  renderTitle();
}

/** `Inbox (3)`: the inbox's unread count, whatever folder is shown, as mail clients do. */
export function renderTitle(): void {
  if (!store.session) {
    document.title = 'Inbox';
    return;
  }
  const unread = store.counts.get('inbox')?.unread ?? 0;
  const inbox = unread > 0 ? `Inbox (${unread})` : 'Inbox';
  document.title = store.folder === 'inbox' ? inbox : `${FOLDER_NAMES[store.folder]} · ${inbox}`;
}

export function renderList(): void {
  renderFolderHead();
  renderRows();
  renderListState();
  renderToolbar();
}

/** Whether the person has scrolled down the list: new mail then waits behind "2 new messages" instead of pushing the rows they read. */
export function scrolledDown(): boolean {
  return ui.listPane.scrollTop > 8 || (document.scrollingElement?.scrollTop ?? 0) > 8;
}

export function scrollListToTop(): void {
  ui.listPane.scrollTop = 0;
  document.scrollingElement?.scrollTo({ top: 0 });
}
