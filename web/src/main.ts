/**
 * The web inbox: sign in (or pick a user when authentication is off), folders with unread counts,
 * a paged message list, batch actions and compose. Built on the public API only. Every piece of
 * API data reaches the page through textContent or attributes, never as HTML.
 */
import { Api, ApiError, type BatchFlags, type Folder, type FolderCount, type Message, type User, userIdOfToken } from './api.js';

const PAGE_SIZE = 20;
const SESSION_KEY = 'inbox.session';
// The tabs, in the page's order; Folder comes from the generated API types, so a name the server does not know fails the build.
const FOLDERS: readonly Folder[] = ['inbox', 'spam', 'trash'];
const FOLDER_NAMES: Record<Folder, string> = { inbox: 'Inbox', spam: 'Spam', trash: 'Trash', sent: 'Sent' };

type Action = 'read' | 'unread' | 'trash' | 'restore' | 'spam' | 'not-spam';

const ACTIONS: Record<Action, { flags: BatchFlags; done: string }> = {
  read: { flags: { read: true }, done: 'marked read' },
  unread: { flags: { read: false }, done: 'marked unread' },
  trash: { flags: { trash: true }, done: 'moved to Trash' },
  restore: { flags: { trash: false }, done: 'restored to Inbox' },
  spam: { flags: { spam: true }, done: 'reported as spam' },
  'not-spam': { flags: { spam: false }, done: 'marked as not spam' },
};

interface Session {
  userId: number;
  token?: string;
}

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} is missing from the page`);
  return found;
}

const ui = {
  account: element('account', HTMLDivElement),
  who: element('who', HTMLSpanElement),
  signOut: element('sign-out', HTMLButtonElement),
  error: element('error', HTMLParagraphElement),
  status: element('status', HTMLParagraphElement),
  signIn: element('sign-in', HTMLElement),
  signInForm: element('sign-in-form', HTMLFormElement),
  email: element('email', HTMLInputElement),
  password: element('password', HTMLInputElement),
  pickUser: element('pick-user', HTMLElement),
  pickUserForm: element('pick-user-form', HTMLFormElement),
  userSelect: element('user-select', HTMLSelectElement),
  mailbox: element('mailbox', HTMLElement),
  composeOpen: element('compose-open', HTMLButtonElement),
  compose: element('compose', HTMLFormElement),
  composeTo: element('compose-to', HTMLSelectElement),
  composeSubject: element('compose-subject', HTMLInputElement),
  composeBody: element('compose-body', HTMLTextAreaElement),
  composeCancel: element('compose-cancel', HTMLButtonElement),
  selectAll: element('select-all', HTMLInputElement),
  selection: element('selection', HTMLSpanElement),
  folderTitle: element('folder-title', HTMLHeadingElement),
  messages: element('messages', HTMLUListElement),
  empty: element('empty', HTMLParagraphElement),
  loadMore: element('load-more', HTMLButtonElement),
  folderButtons: [...document.querySelectorAll<HTMLButtonElement>('button[data-folder]')],
  actionButtons: [...document.querySelectorAll<HTMLButtonElement>('button[data-action]')],
};

const api = new Api();
const state = {
  authenticationOn: false,
  session: undefined as Session | undefined,
  folder: 'inbox' as Folder,
  messages: [] as Message[],
  nextCursor: null as string | null,
  selected: new Set<number>(),
  users: new Map<number, User>(),
  busy: false,
};

// --- messages to the person ----------------------------------------------------------------

function showError(text: string): void {
  ui.error.textContent = text;
  ui.error.hidden = false;
  ui.status.textContent = '';
}

function showStatus(text: string): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
  ui.status.textContent = text;
}

/** Shows what went wrong; a 401 while signed in means the token has expired: back to the sign-in form. */
function reportFailure(error: unknown): void {
  if (error instanceof ApiError && error.status === 401 && state.session?.token) {
    signOut('Your session has ended: sign in again.');
    return;
  }
  showError(error instanceof Error ? error.message : String(error));
}

// --- session -------------------------------------------------------------------------------

function saveSession(session: Session | undefined): void {
  state.session = session;
  api.token = session?.token;
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}

function storedSession(): Session | undefined {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (typeof value !== 'object' || value === null || !('userId' in value) || typeof value.userId !== 'number') return undefined;
    const token = 'token' in value && typeof value.token === 'string' ? value.token : undefined;
    return token ? { userId: value.userId, token } : { userId: value.userId };
  } catch {
    return undefined;
  }
}

function show(view: 'sign-in' | 'pick-user' | 'mailbox'): void {
  ui.signIn.hidden = view !== 'sign-in';
  ui.pickUser.hidden = view !== 'pick-user';
  ui.mailbox.hidden = view !== 'mailbox';
  ui.account.hidden = view !== 'mailbox';
}

async function showStart(): Promise<void> {
  if (state.authenticationOn) {
    show('sign-in');
    ui.email.focus();
    return;
  }
  show('pick-user');
  const users = await api.users();
  const options = users.map((user) => {
    const option = document.createElement('option');
    option.value = String(user.id);
    option.textContent = `${user.email} (#${user.id})`;
    return option;
  });
  ui.userSelect.replaceChildren(...options);
  if (users.length === 0) showStatus('No users yet: sign up through POST /users/ (see /docs), then reload.');
  ui.userSelect.focus();
}

function signOut(reason = 'Signed out.'): void {
  saveSession(undefined);
  state.messages = [];
  state.selected.clear();
  ui.messages.replaceChildren();
  showStatus(reason);
  showStart().catch(reportFailure);
}

async function openMailbox(session: Session): Promise<void> {
  saveSession(session);
  const users = await api.users();
  state.users = new Map(users.map((user) => [user.id, user]));
  const me = state.users.get(session.userId) ?? (await api.user(session.userId));
  state.users.set(me.id, me);
  ui.who.textContent = state.authenticationOn ? `Signed in as ${me.email}` : `Mailbox of ${me.email}`;
  fillRecipients();
  show('mailbox');
  await switchFolder('inbox');
}

// --- folders and the list ------------------------------------------------------------------

function senderName(id: number): string {
  return state.users.get(id)?.email ?? `User #${id}`;
}

function renderCounts(counts: readonly FolderCount[]): void {
  for (const folder of FOLDERS) {
    const unread = counts.find((count) => count.folder === folder)?.unread ?? 0;
    const badge = document.querySelector<HTMLSpanElement>(`[data-count="${folder}"]`);
    if (badge) {
      badge.textContent = unread > 0 ? String(unread) : '';
      badge.hidden = unread === 0;
    }
    const button = ui.folderButtons.find((candidate) => candidate.dataset.folder === folder);
    button?.setAttribute('aria-label', unread > 0 ? `${FOLDER_NAMES[folder]}, ${unread} unread` : FOLDER_NAMES[folder]);
  }
}

function messageItem(message: Message): HTMLLIElement {
  const item = document.createElement('li');
  item.className = message.unread === 'Y' ? 'message unread' : 'message';
  item.dataset.id = String(message.id);

  const checkbox = document.createElement('input');
  checkbox.type = 'checkbox';
  checkbox.id = `message-${message.id}`;
  checkbox.checked = state.selected.has(message.id);
  checkbox.addEventListener('change', () => {
    if (checkbox.checked) state.selected.add(message.id);
    else state.selected.delete(message.id);
    item.classList.toggle('selected', checkbox.checked);
    renderSelection();
  });
  item.classList.toggle('selected', checkbox.checked);

  const label = document.createElement('label');
  label.htmlFor = checkbox.id;
  label.className = 'message-text';
  const sender = document.createElement('span');
  sender.className = 'sender';
  sender.textContent = senderName(message.from_userid);
  const subject = document.createElement('span');
  subject.className = 'subject';
  subject.textContent = message.subject.trim() === '' ? '(no subject)' : message.subject;
  const preview = document.createElement('span');
  preview.className = 'preview';
  preview.textContent = message.message;
  label.append(sender, subject, preview);

  const marker = document.createElement('span');
  marker.className = 'marker';
  marker.textContent = message.unread === 'Y' ? 'Unread' : 'Read';

  item.append(checkbox, label, marker);
  return item;
}

function renderMessages(): void {
  ui.messages.replaceChildren(...state.messages.map(messageItem));
  ui.empty.hidden = state.messages.length > 0;
  ui.loadMore.hidden = state.nextCursor === null;
  renderSelection();
}

function renderSelection(): void {
  const count = state.selected.size;
  const total = state.messages.length;
  ui.selectAll.checked = total > 0 && count === total;
  ui.selectAll.indeterminate = count > 0 && count < total;
  ui.selectAll.disabled = total === 0 || state.busy;
  ui.selection.textContent = count === 0 ? 'Select all' : `${count} selected`;
  for (const button of ui.actionButtons) {
    button.hidden = !(button.dataset.folders ?? '').split(' ').includes(state.folder);
    button.disabled = count === 0 || state.busy;
  }
}

async function refreshCounts(): Promise<void> {
  if (!state.session) return;
  renderCounts(await api.folders(state.session.userId));
}

/** Reloads the counts and the first page of the current folder; the selection is dropped. */
async function reload(): Promise<void> {
  if (!state.session) return;
  const [counts, page] = await Promise.all([api.folders(state.session.userId), api.messages(state.session.userId, state.folder, PAGE_SIZE)]);
  renderCounts(counts);
  state.messages = page.messages;
  state.nextCursor = page.next_cursor;
  state.selected.clear();
  renderMessages();
}

async function switchFolder(folder: Folder): Promise<void> {
  state.folder = folder;
  for (const button of ui.folderButtons) button.setAttribute('aria-pressed', String(button.dataset.folder === folder));
  ui.folderTitle.textContent = FOLDER_NAMES[folder];
  document.title = `${FOLDER_NAMES[folder]} · Inbox`;
  state.messages = [];
  state.nextCursor = null;
  await reload();
}

async function loadMore(): Promise<void> {
  if (!state.session || state.nextCursor === null) return;
  const page = await api.messages(state.session.userId, state.folder, PAGE_SIZE, state.nextCursor);
  const known = new Set(state.messages.map((message) => message.id));
  state.messages.push(...page.messages.filter((message) => !known.has(message.id)));
  state.nextCursor = page.next_cursor;
  renderMessages();
}

async function act(action: Action): Promise<void> {
  const ids = state.messages.map((message) => message.id).filter((id) => state.selected.has(id));
  if (ids.length === 0) return;
  state.busy = true;
  renderSelection();
  try {
    await api.update(ids, ACTIONS[action].flags);
    showStatus(`${ids.length} ${ids.length === 1 ? 'message' : 'messages'} ${ACTIONS[action].done}.`);
  } finally {
    state.busy = false;
    await reload().catch(reportFailure);
  }
}

// --- compose -------------------------------------------------------------------------------

function fillRecipients(): void {
  const others = [...state.users.values()].filter((user) => user.id !== state.session?.userId);
  const placeholder = document.createElement('option');
  placeholder.value = '';
  placeholder.textContent = others.length === 0 ? 'No one else has signed up yet' : 'Choose a recipient';
  const options = others.map((user) => {
    const option = document.createElement('option');
    option.value = String(user.id);
    option.textContent = user.email;
    return option;
  });
  ui.composeTo.replaceChildren(placeholder, ...options);
}

function openCompose(): void {
  ui.compose.hidden = false;
  ui.composeOpen.setAttribute('aria-expanded', 'true');
  ui.composeTo.focus();
}

function closeCompose(): void {
  ui.compose.hidden = true;
  ui.composeOpen.setAttribute('aria-expanded', 'false');
  ui.compose.reset();
  ui.composeOpen.focus();
}

async function send(): Promise<void> {
  if (!state.session) return;
  const to = Number(ui.composeTo.value);
  if (!Number.isSafeInteger(to) || to <= 0) {
    showError('Choose a recipient.');
    ui.composeTo.focus();
    return;
  }
  await api.send(state.session.userId, to, ui.composeSubject.value, ui.composeBody.value);
  closeCompose();
  showStatus(`Message sent to ${senderName(to)}.`);
  // A message to oneself lands in one's own inbox.
  if (to === state.session.userId) await reload();
}

// --- wiring --------------------------------------------------------------------------------

/** Runs a handler, shows its failure, and keeps a button from being pressed twice meanwhile. */
function guarded(task: () => Promise<void>, button?: HTMLButtonElement): () => void {
  return () => {
    if (button?.disabled) return;
    if (button) button.disabled = true;
    task()
      .catch(reportFailure)
      .finally(() => {
        if (button) button.disabled = false;
        renderSelection();
      });
  };
}

ui.signInForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const submit = ui.signInForm.querySelector<HTMLButtonElement>('button[type="submit"]') ?? undefined;
  guarded(async () => {
    const token = await api.signIn(ui.email.value.trim(), ui.password.value);
    const userId = userIdOfToken(token);
    if (userId === undefined) throw new Error('The server answered with a token this page cannot read.');
    ui.password.value = '';
    showStatus('');
    await openMailbox({ userId, token });
  }, submit)();
});

ui.pickUserForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const userId = Number(ui.userSelect.value);
  if (!Number.isSafeInteger(userId) || userId <= 0) return;
  showStatus('');
  guarded(() => openMailbox({ userId }))();
});

ui.signOut.addEventListener('click', () => signOut(state.authenticationOn ? 'Signed out.' : ''));

for (const button of ui.folderButtons) {
  button.addEventListener('click', guarded(() => switchFolder((button.dataset.folder ?? 'inbox') as Folder)));
}

for (const button of ui.actionButtons) {
  button.addEventListener('click', guarded(() => act(button.dataset.action as Action)));
}

ui.selectAll.addEventListener('change', () => {
  if (ui.selectAll.checked) for (const message of state.messages) state.selected.add(message.id);
  else state.selected.clear();
  for (const checkbox of ui.messages.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')) {
    checkbox.checked = ui.selectAll.checked;
    checkbox.closest('li')?.classList.toggle('selected', checkbox.checked);
  }
  renderSelection();
});

ui.loadMore.addEventListener('click', guarded(loadMore, ui.loadMore));
ui.composeOpen.setAttribute('aria-expanded', 'false');
ui.composeOpen.setAttribute('aria-controls', 'compose');
ui.composeOpen.addEventListener('click', () => (ui.compose.hidden ? openCompose() : closeCompose()));
ui.composeCancel.addEventListener('click', closeCompose);
ui.compose.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') closeCompose();
});
ui.compose.addEventListener('submit', (event) => {
  event.preventDefault();
  guarded(send, ui.compose.querySelector<HTMLButtonElement>('button[type="submit"]') ?? undefined)();
});
window.addEventListener('focus', () => {
  // Mail may have arrived while the page was in the background.
  if (state.session && !state.busy) refreshCounts().catch(reportFailure);
});

async function start(): Promise<void> {
  state.authenticationOn = await api.authenticationIsOn();
  const session = storedSession();
  // A stored session is only good for the mode it was made in.
  if (session && Boolean(session.token) === state.authenticationOn) {
    try {
      await openMailbox(session);
      return;
    } catch (error) {
      saveSession(undefined);
      if (!(error instanceof ApiError && error.status === 401)) throw error;
      showStatus('Your session has ended: sign in again.');
    }
  }
  await showStart();
}

start().catch(reportFailure);
