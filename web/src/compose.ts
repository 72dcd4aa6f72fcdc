/**
 * Compose and reply, with a draft that is never lost silently: every keystroke is kept in the tab's
 * sessionStorage under the user's id (session.ts), a failed send leaves everything in place, Escape or
 * "Close" keeps the draft for the next Compose, and starting another message over an unsent one asks
 * first. The To field suggests a few known addresses as the person types (an ARIA combobox), never a
 * drop-down of every user.
 */
import { ApiError, type MailMessage, type NewMail } from './api.js';
import { byId, el, showStatus } from './dom.js';
import { type Draft, isEmptyDraft, loadDraft, saveDraft } from './session.js';
import { store } from './store.js';
import { suggestAddresses } from './suggest.js';

export interface ComposeHandlers {
  send(mail: NewMail): Promise<MailMessage>;
  /** after a send: the message as its sender sees it */
  sent(message: MailMessage): void;
  /** an error the compose form cannot show itself (the session ended) */
  failed(error: unknown): boolean;
  /** compose opened: a chance to gather more addresses to suggest */
  opened(): void;
}

const ui = {
  form: byId('compose', HTMLFormElement),
  title: byId('compose-title', HTMLHeadingElement),
  error: byId('compose-error', HTMLParagraphElement),
  toRow: byId('compose-to-row', HTMLDivElement),
  to: byId('compose-to', HTMLInputElement),
  suggestions: byId('compose-suggestions', HTMLUListElement),
  replyTo: byId('compose-reply-to', HTMLParagraphElement),
  subjectRow: byId('compose-subject-row', HTMLDivElement),
  subject: byId('compose-subject', HTMLInputElement),
  body: byId('compose-body', HTMLTextAreaElement),
  send: byId('compose-send', HTMLButtonElement),
  close: byId('compose-close', HTMLButtonElement),
  discard: byId('compose-discard', HTMLButtonElement),
  composeOpen: byId('compose-open', HTMLButtonElement),
  draftMark: byId('draft-mark', HTMLSpanElement),
  confirm: byId('confirm', HTMLDialogElement),
  confirmText: byId('confirm-text', HTMLParagraphElement),
};

let handlers: ComposeHandlers | undefined;
/** the reply being written, if it is one */
let reply: Pick<Draft, 'inReplyTo' | 'replyTo' | 'replySubject'> = {};
/** where focus goes back to when the form closes */
let opener: HTMLElement | null = null;
let sending = false;
let activeSuggestion = -1;

function userId(): number | undefined {
  return store.session?.userId;
}

function currentDraft(): Draft {
  return { to: ui.to.value, subject: ui.subject.value, body: ui.body.value, ...reply };
}

function keepDraft(): void {
  const id = userId();
  if (id !== undefined) saveDraft(id, currentDraft());
  renderDraftMark();
}

/** "Compose · draft" while an unsent draft waits. */
export function renderDraftMark(): void {
  const id = userId();
  const waiting = id !== undefined && ui.form.hidden && !isEmptyDraft(loadDraft(id));
  ui.draftMark.hidden = !waiting;
  ui.composeOpen.setAttribute('aria-label', waiting ? 'Compose, an unsent draft waits' : 'Compose');
}

export function composeIsOpen(): boolean {
  return !ui.form.hidden;
}

function fill(draft: Draft): void {
  reply = draft.inReplyTo === undefined ? {} : { inReplyTo: draft.inReplyTo, replyTo: draft.replyTo ?? '', replySubject: draft.replySubject ?? '' };
  ui.to.value = draft.to;
  ui.subject.value = draft.subject;
  ui.body.value = draft.body;
  const isReply = draft.inReplyTo !== undefined;
  ui.title.textContent = isReply ? 'Reply' : 'New message';
  ui.toRow.hidden = isReply;
  ui.subjectRow.hidden = isReply;
  ui.replyTo.hidden = !isReply;
  ui.replyTo.replaceChildren();
  if (isReply) ui.replyTo.append('To ', el('span', { dir: 'auto' }, draft.replyTo ?? ''), ' · ', el('span', { dir: 'auto' }, draft.replySubject ?? ''));
  hideError();
  closeSuggestions();
}

function show(focus: HTMLElement | null): void {
  opener = focus;
  ui.form.hidden = false;
  ui.composeOpen.setAttribute('aria-expanded', 'true');
  renderDraftMark();
  handlers?.opened();
  (reply.inReplyTo !== undefined || ui.to.value !== '' ? ui.body : ui.to).focus();
}

/** Hides the form; the draft stays stored unless `discard`. Focus goes back to what opened it. */
function hide(how: 'keep' | 'discard' | 'sent'): void {
  const id = userId();
  if (how !== 'keep' && id !== undefined) saveDraft(id, undefined);
  if (how === 'keep') keepDraft();
  ui.form.hidden = true;
  ui.composeOpen.setAttribute('aria-expanded', 'false');
  closeSuggestions();
  renderDraftMark();
  const back = opener && opener.isConnected && !opener.closest('[hidden]') ? opener : ui.composeOpen;
  back.focus();
  opener = null;
}

/** Asks what to do with an unsent draft; Escape keeps it. */
function askAboutDraft(draft: Draft): Promise<'keep' | 'discard'> {
  const what = draft.inReplyTo !== undefined ? `a reply to ${draft.replyTo ?? 'a message'}` : draft.to.trim() ? `a message to ${draft.to.trim()}` : 'a new message';
  ui.confirmText.textContent = `You have not sent ${what} yet. Keep working on it, or discard it?`;
  ui.confirm.returnValue = '';
  ui.confirm.showModal();
  return new Promise((resolve) => {
    ui.confirm.addEventListener('close', () => resolve(ui.confirm.returnValue === 'discard' ? 'discard' : 'keep'), { once: true });
  });
}

/** Compose (the button or `c`): the waiting draft if there is one, else a new message. */
export async function openCompose(focusBack: HTMLElement | null): Promise<void> {
  const id = userId();
  if (id === undefined) return;
  if (composeIsOpen()) {
    (reply.inReplyTo !== undefined ? ui.body : ui.to).focus();
    return;
  }
  const draft = loadDraft(id);
  if (draft && !isEmptyDraft(draft) && draft.inReplyTo !== undefined && (await askAboutDraft(draft)) === 'discard') {
    saveDraft(id, undefined);
    fill({ to: '', subject: '', body: '' });
  } else {
    fill(draft ?? { to: '', subject: '', body: '' });
  }
  show(focusBack);
}

/** Reply to a message; an unsent draft of something else is not replaced without asking. */
export async function openReply(message: MailMessage, focusBack: HTMLElement | null): Promise<void> {
  const id = userId();
  if (id === undefined) return;
  const draft = composeIsOpen() ? currentDraft() : loadDraft(id);
  const sameReply = draft?.inReplyTo === message.id;
  if (draft && !sameReply && !isEmptyDraft(draft)) {
    if ((await askAboutDraft(draft)) === 'keep') {
      if (!composeIsOpen()) {
        fill(draft);
        show(focusBack);
      } else ui.body.focus();
      return;
    }
  }
  const replyTo = message.folder === 'sent' ? message.to_email : message.from_email;
  const subject = /^re:/i.test(message.subject) ? message.subject : `Re: ${message.subject}`;
  fill(sameReply && draft ? draft : { to: '', subject: '', body: '', inReplyTo: message.id, replyTo, replySubject: subject });
  keepDraft();
  show(focusBack);
}

/** Signing out or switching mailboxes: the form closes without a word; the stored draft is session.ts's business. */
export function resetCompose(): void {
  ui.form.hidden = true;
  ui.form.reset();
  reply = {};
  hideError();
  closeSuggestions();
  opener = null;
  renderDraftMark();
}

function showError(text: string): void {
  ui.error.textContent = text;
  ui.error.hidden = false;
}

function hideError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

async function send(): Promise<void> {
  if (sending) return;
  const draft = currentDraft();
  let mail: NewMail;
  if (draft.inReplyTo !== undefined) {
    mail = { in_reply_to: draft.inReplyTo, message: draft.body };
  } else {
    const to = draft.to.trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(to)) {
      showError(to === '' ? 'Who is it to? Type an address.' : `“${to}” is not an email address.`);
      ui.to.focus();
      return;
    }
    if (draft.subject.trim() === '') {
      showError('Add a subject.');
      ui.subject.focus();
      return;
    }
    mail = { to_email: to, subject: draft.subject, message: draft.body };
  }
  sending = true;
  ui.send.setAttribute('aria-disabled', 'true');
  hideError();
  try {
    const message = await handlers!.send(mail);
    hide('sent');
    handlers?.sent(message);
  } catch (error) {
    // The draft stays as typed, and stored: nothing the person wrote is lost to a failed send.
    keepDraft();
    if (!handlers?.failed(error)) showError(error instanceof ApiError || error instanceof Error ? `Not sent: ${error.message}` : 'Not sent.');
  } finally {
    sending = false;
    ui.send.removeAttribute('aria-disabled');
  }
}

// --- suggestions (ARIA 1.2 combobox with a list popup) ---------------------------------------

function options(): HTMLLIElement[] {
  return [...ui.suggestions.querySelectorAll<HTMLLIElement>('li[role="option"]')];
}

function closeSuggestions(): void {
  ui.suggestions.hidden = true;
  ui.suggestions.replaceChildren();
  ui.to.setAttribute('aria-expanded', 'false');
  ui.to.removeAttribute('aria-activedescendant');
  activeSuggestion = -1;
}

function renderSuggestions(): void {
  const found = suggestAddresses(store.addresses, ui.to.value);
  if (found.length === 0) {
    closeSuggestions();
    return;
  }
  ui.suggestions.replaceChildren(
    ...found.map((address, index) => el('li', { role: 'option', id: `suggestion-${index}`, 'aria-selected': 'false', dir: 'auto', 'data-address': address }, address)),
  );
  ui.suggestions.hidden = false;
  ui.to.setAttribute('aria-expanded', 'true');
  activeSuggestion = -1;
  ui.to.removeAttribute('aria-activedescendant');
}

function highlight(index: number): void {
  const all = options();
  if (all.length === 0) return;
  activeSuggestion = (index + all.length) % all.length;
  all.forEach((option, position) => option.setAttribute('aria-selected', String(position === activeSuggestion)));
  const active = all[activeSuggestion];
  if (active) {
    ui.to.setAttribute('aria-activedescendant', active.id);
    active.scrollIntoView({ block: 'nearest' });
  }
}

function choose(address: string): void {
  ui.to.value = address;
  closeSuggestions();
  keepDraft();
  (ui.subject.value === '' ? ui.subject : ui.body).focus();
}

export function initCompose(composeHandlers: ComposeHandlers): void {
  handlers = composeHandlers;
  ui.composeOpen.setAttribute('aria-expanded', 'false');
  ui.composeOpen.setAttribute('aria-controls', 'compose');
  ui.form.addEventListener('input', (event) => {
    keepDraft();
    if (event.target === ui.to) renderSuggestions();
  });
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    void send();
  });
  ui.close.addEventListener('click', () => {
    hide('keep');
    if (!isEmptyDraft(currentDraft())) showStatus('Draft kept: Compose opens it again.');
  });
  ui.discard.addEventListener('click', () => {
    const hadText = !isEmptyDraft(currentDraft());
    hide('discard');
    if (hadText) showStatus('Draft discarded.');
  });
  ui.form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !ui.suggestions.hidden) {
      event.preventDefault();
      event.stopPropagation();
      closeSuggestions();
      return;
    }
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      hide('keep');
      if (!isEmptyDraft(currentDraft())) showStatus('Draft kept: Compose opens it again.');
      return;
    }
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void send();
    }
  });
  ui.to.addEventListener('keydown', (event) => {
    if (ui.suggestions.hidden) {
      if (event.key === 'ArrowDown' && ui.to.value.trim() !== '') {
        renderSuggestions();
        highlight(0);
        event.preventDefault();
      }
      return;
    }
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      highlight(activeSuggestion + (event.key === 'ArrowDown' ? 1 : -1));
    } else if (event.key === 'Enter' && activeSuggestion >= 0) {
      event.preventDefault();
      const address = options()[activeSuggestion]?.dataset.address;
      if (address) choose(address);
    } else if (event.key === 'Tab') {
      closeSuggestions();
    }
  });
  ui.to.addEventListener('blur', () => {
    // After a click on a suggestion (mousedown below keeps the focus here until then).
    setTimeout(closeSuggestions, 150);
  });
  ui.suggestions.addEventListener('mousedown', (event) => event.preventDefault());
  ui.suggestions.addEventListener('click', (event) => {
    const option = event.target instanceof Element ? event.target.closest<HTMLLIElement>('li[role="option"]') : null;
    const address = option?.dataset.address;
    if (address) choose(address);
  });
}
