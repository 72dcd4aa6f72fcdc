/**
 * The web inbox's entry: learns how this server signs people in (GET /auth/config, a few bytes),
 * offers sign-in and sign-up, or with authentication off a mailbox picker, then hands over to the
 * mailbox (mailbox.ts). Built on the public API only; every piece of API data reaches the page through
 * textContent or attributes, never as HTML.
 */
import { Api, ApiError, type User, userIdOfToken } from './api.js';
import { initCompose } from './compose.js';
import { byId, clearError, serverReached, showError, showStatus } from './dom.js';
import { initKeyboard } from './keyboard.js';
import {
  afterSend,
  closeMessage,
  compose,
  enterMailbox,
  gatherAddresses,
  initMailbox,
  leaveMailbox,
  moveCurrent,
  openCurrent,
  replyToOpen,
  reportFailure,
  runAction,
  serverBack,
  showFolder,
  toggleCurrent,
  undoLast,
} from './mailbox.js';
import { forgetAllDrafts, isEmptyDraft, loadDraft, storedSession, storeSession } from './session.js';
import { authenticationOn, type Session, store } from './store.js';

const ui = {
  account: byId('account', HTMLDivElement),
  who: byId('who', HTMLSpanElement),
  signOut: byId('sign-out', HTMLButtonElement),
  search: byId('search', HTMLFormElement),
  searchInput: byId('search-input', HTMLInputElement),
  searchClear: byId('search-clear', HTMLButtonElement),
  signIn: byId('sign-in', HTMLElement),
  signInForm: byId('sign-in-form', HTMLFormElement),
  email: byId('email', HTMLInputElement),
  password: byId('password', HTMLInputElement),
  signUp: byId('sign-up', HTMLElement),
  signUpForm: byId('sign-up-form', HTMLFormElement),
  newEmail: byId('new-email', HTMLInputElement),
  newPassword: byId('new-password', HTMLInputElement),
  newPasswordHint: byId('new-password-hint', HTMLParagraphElement),
  showSignUp: byId('show-sign-up', HTMLButtonElement),
  showSignIn: byId('show-sign-in', HTMLButtonElement),
  showNewMailbox: byId('show-new-mailbox', HTMLButtonElement),
  pickUser: byId('pick-user', HTMLElement),
  pickUserForm: byId('pick-user-form', HTMLFormElement),
  userSelect: byId('user-select', HTMLSelectElement),
  mailbox: byId('mailbox', HTMLDivElement),
  shortcuts: byId('shortcuts', HTMLDialogElement),
  shortcutsOpen: byId('shortcuts-open', HTMLButtonElement),
  composeOpen: byId('compose-open', HTMLButtonElement),
};

const api = new Api();
api.onReach = (reached) => {
  if (!reached) return;
  serverReached();
  serverBack();
};

// --- the user list: fetched once per page load (the picker, and addresses to suggest) ----------

let usersOnce: Promise<User[]> | undefined;
function users(): Promise<User[]> {
  usersOnce ??= api.users().catch((error: unknown) => {
    usersOnce = undefined;
    throw error;
  });
  return usersOnce;
}

/** A user made on this page joins the list without asking the server for all of it again. */
function addUser(user: User): void {
  usersOnce = (usersOnce ?? Promise.resolve([])).then((list) => [...list.filter((known) => known.id !== user.id), user]);
}

// --- views -------------------------------------------------------------------------------------

function show(view: 'sign-in' | 'sign-up' | 'pick-user' | 'mailbox'): void {
  ui.signIn.hidden = view !== 'sign-in';
  ui.signUp.hidden = view !== 'sign-up';
  ui.pickUser.hidden = view !== 'pick-user';
  ui.mailbox.hidden = view !== 'mailbox';
  ui.account.hidden = view !== 'mailbox';
  ui.search.hidden = view !== 'mailbox';
}

async function showStart(): Promise<void> {
  for (const hint of document.querySelectorAll<HTMLElement>('[data-sign-up-only]')) hint.hidden = !store.config.sign_up;
  // The server's own minimum, said before the person types (the server's refusal still reads in plain words).
  ui.newPasswordHint.textContent = `At least ${store.config.password_min_length} characters. A passphrase of a few words is best: the longer, the safer.`;
  if (authenticationOn()) {
    show('sign-in');
    ui.email.focus();
    return;
  }
  show('pick-user');
  const list = await users();
  const options = list.map((user) => {
    const option = document.createElement('option');
    option.value = String(user.id);
    option.textContent = `${user.email} (#${user.id})`;
    return option;
  });
  ui.userSelect.replaceChildren(...options);
  if (list.length === 0) showStatus('No mailboxes yet: create one below.');
  ui.userSelect.focus();
}

function saveSession(session: Session | undefined): void {
  store.session = session;
  api.token = session?.token;
  storeSession(session);
}

async function openMailbox(session: Session): Promise<void> {
  saveSession(session);
  let email: string;
  if (authenticationOn()) {
    email = (await api.user(session.userId)).email;
  } else {
    const list = await users();
    email = list.find((user) => user.id === session.userId)?.email ?? (await api.user(session.userId)).email;
    for (const user of list) store.addresses.add(user.email);
  }
  store.email = email;
  store.addresses.add(email);
  // With authentication off nobody is signed in: the page says whose mailbox it shows, and that
  // leaving it switches mailboxes; it never pretends to sign anyone out.
  ui.who.textContent = authenticationOn() ? `Signed in as ${email}` : `Mailbox of ${email}`;
  ui.signOut.textContent = authenticationOn() ? 'Sign out' : 'Switch mailbox';
  show('mailbox');
  const draft = loadDraft(session.userId);
  if (!isEmptyDraft(draft)) showStatus('An unsent draft is waiting: Compose opens it.');
  await enterMailbox();
}

/**
 * Leaves the mailbox. Signing out (authentication on) forgets every draft of the tab, so the next
 * person never sees one; a session that merely expired keeps its user's draft for when they sign in
 * again (keyed by their id, it is shown to no one else). Switching mailboxes (authentication off)
 * keeps each mailbox's draft under its own id.
 */
function leave(how: 'sign-out' | 'expired' | 'switch'): void {
  leaveMailbox();
  saveSession(undefined);
  if (how === 'sign-out') forgetAllDrafts();
  store.email = '';
  ui.searchInput.value = '';
  clearError();
  if (how === 'expired') showError('Your session has ended: sign in again.');
  else showStatus(how === 'sign-out' ? 'Signed out.' : 'Choose a mailbox to open.');
  showStart().catch(reportFailure);
}

/** Runs a form's task with its submit button held down; failures are shown in plain words. */
async function submitting(form: HTMLFormElement, task: () => Promise<void>): Promise<void> {
  const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]');
  if (submit?.getAttribute('aria-disabled') === 'true') return;
  submit?.setAttribute('aria-disabled', 'true');
  try {
    await task();
  } catch (error) {
    reportFailure(error);
  } finally {
    submit?.removeAttribute('aria-disabled');
  }
}

// --- wiring --------------------------------------------------------------------------------------

initMailbox(api, { sessionEnded: () => leave('expired') });

initCompose({
  send: (mail) => {
    if (!store.session) return Promise.reject(new Error('Not signed in.'));
    return api.send(store.session.userId, mail);
  },
  sent: (message) => afterSend(message),
  failed: (error) => {
    if (error instanceof ApiError && error.status === 401 && store.session?.token) {
      leave('expired');
      return true;
    }
    return false;
  },
  opened: () => {
    if (authenticationOn()) gatherAddresses();
  },
});

initKeyboard({
  active: () => !ui.mailbox.hidden,
  move: moveCurrent,
  toggleSelect: toggleCurrent,
  open: openCurrent,
  back: closeMessage,
  reply: replyToOpen,
  trash: () => void runAction('trash', 'keyboard'),
  spam: () => void runAction('spam', 'keyboard'),
  undo: undoLast,
  compose,
  search: () => ui.searchInput.focus(),
  help: () => ui.shortcuts.showModal(),
});

ui.signInForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void submitting(ui.signInForm, async () => {
    const token = await api.signIn(ui.email.value.trim(), ui.password.value);
    const userId = userIdOfToken(token);
    if (userId === undefined) throw new Error('The server answered with a token this page cannot read.');
    ui.password.value = '';
    showStatus('');
    await openMailbox({ userId, token });
  });
});

ui.signUpForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void submitting(ui.signUpForm, async () => {
    const email = ui.newEmail.value.trim();
    const password = ui.newPassword.value;
    const user = await api.signUp(email, password);
    ui.newPassword.value = '';
    showStatus(`Welcome, ${user.email}.`);
    if (authenticationOn()) {
      const token = await api.signIn(email, password);
      await openMailbox({ userId: user.id, token });
    } else {
      addUser(user);
      await openMailbox({ userId: user.id });
    }
  });
});

ui.showSignUp.addEventListener('click', () => {
  clearError();
  show('sign-up');
  ui.newEmail.value = ui.email.value;
  ui.newEmail.focus();
});
ui.showNewMailbox.addEventListener('click', () => {
  clearError();
  show('sign-up');
  ui.newEmail.focus();
});
ui.showSignIn.addEventListener('click', () => {
  clearError();
  void showStart();
});

ui.pickUserForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const userId = Number(ui.userSelect.value);
  if (!Number.isSafeInteger(userId) || userId <= 0) return;
  showStatus('');
  void submitting(ui.pickUserForm, () => openMailbox({ userId }));
});

ui.signOut.addEventListener('click', () => leave(authenticationOn() ? 'sign-out' : 'switch'));

// Search: as the person types (after a pause) and on Enter; Escape or an empty box shows the folder again.
let searchTimer: ReturnType<typeof setTimeout> | undefined;
function searchNow(): void {
  clearTimeout(searchTimer);
  const query = ui.searchInput.value.trim();
  if (query === store.query) return;
  void showFolder(store.folder, query);
}
ui.search.addEventListener('submit', (event) => {
  event.preventDefault();
  searchNow();
});
ui.searchInput.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(searchNow, 350);
});
ui.searchInput.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  event.preventDefault();
  ui.searchInput.value = '';
  searchNow();
});
ui.searchClear.addEventListener('click', () => {
  ui.searchInput.value = '';
  searchNow();
  ui.searchInput.focus();
});

ui.shortcutsOpen.addEventListener('click', () => ui.shortcuts.showModal());
ui.composeOpen.addEventListener('click', () => compose());

async function start(): Promise<void> {
  store.config = await api.authConfig();
  const session = storedSession();
  // A stored session is only good for the mode it was made in.
  if (session && Boolean(session.token) === authenticationOn()) {
    try {
      await openMailbox(session);
      return;
    } catch (error) {
      leaveMailbox();
      saveSession(undefined);
      if (!(error instanceof ApiError && error.status === 401)) throw error;
      showError('Your session has ended: sign in again.');
    }
  }
  await showStart();
}

start().catch(reportFailure);
