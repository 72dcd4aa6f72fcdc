/**
 * The reading pane: the open message whole (sender, recipient, date, text), within its conversation,
 * oldest first. Beside the list on a wide screen, full-screen on a phone (styles.css, `.reading`).
 * It shows the row's copy at once and then the conversation when it arrives; an answer for a message
 * no longer open is dropped (`shown` is compared on arrival, in mailbox.ts).
 */
import type { MailMessage } from './api.js';
import { formatWhen } from './dates.js';
import { byId, el } from './dom.js';

const ui = {
  mailbox: byId('mailbox', HTMLDivElement),
  empty: byId('reader-empty', HTMLParagraphElement),
  content: byId('reader-content', HTMLDivElement),
  title: byId('reader-title', HTMLHeadingElement),
  threadInfo: byId('reader-thread-info', HTMLParagraphElement),
  thread: byId('thread', HTMLOListElement),
  back: byId('reader-back', HTMLButtonElement),
  reply: byId('reader-reply', HTMLButtonElement),
  actionButtons: [...document.querySelectorAll<HTMLButtonElement>('button[data-reader-action]')],
};
export const readerUi = ui;

/** The message whose conversation the pane shows. */
let shown: MailMessage | undefined;

export function shownMessage(): MailMessage | undefined {
  return shown;
}

function line(label: string, value: string): HTMLParagraphElement {
  return el('p', { class: 'line' }, el('span', { class: 'label' }, `${label} `), el('span', { dir: 'auto', class: 'value' }, value));
}

function mailItem(message: MailMessage, isOpen: boolean): HTMLLIElement {
  const when = formatWhen(message.created_at, new Date());
  const time = el('time', { class: 'when' });
  if (when) {
    time.dateTime = when.iso;
    time.title = when.title;
    time.textContent = when.title;
  }
  const head = el('header', { class: 'mail-head' }, line('From', message.from_email), line('To', message.to_email), time);
  if (message.folder === 'sent') head.append(el('p', { class: 'tag' }, 'Sent'));
  const article = el(
    'article',
    { class: 'mail', 'aria-label': `From ${message.from_email}${when ? `, ${when.text}` : ''}` },
    head,
    el('div', { class: 'body', dir: 'auto' }, message.message),
  );
  const item = el('li', { 'data-id': message.id, class: isOpen ? 'is-open' : undefined }, article);
  if (isOpen) item.setAttribute('aria-current', 'true');
  return item;
}

/** Shows one message (and, when given, its conversation); opens the pane. */
export function showInReader(message: MailMessage, conversation?: readonly MailMessage[]): void {
  shown = message;
  ui.empty.hidden = true;
  ui.content.hidden = false;
  ui.mailbox.classList.add('reading');
  ui.title.textContent = message.subject.trim() === '' ? '(no subject)' : message.subject;
  const messages = conversation && conversation.length > 0 ? conversation : [message];
  ui.thread.replaceChildren(...messages.map((item) => mailItem(item.id === message.id ? message : item, item.id === message.id)));
  ui.threadInfo.textContent = messages.length > 1 ? `Conversation of ${messages.length} messages` : '';
  renderReaderActions();
  if (messages.length > 1) ui.thread.querySelector('li.is-open')?.scrollIntoView({ block: 'nearest' });
}

/** The pane's buttons follow the open message's own folder (a conversation mixes folders). */
export function renderReaderActions(): void {
  const folder = shown?.folder ?? '';
  for (const button of ui.actionButtons) button.hidden = !(button.dataset.folders ?? '').split(' ').includes(folder);
}

/** Updates the open message after a change (read, moved), keeping the pane as it is. */
export function updateShown(message: MailMessage): void {
  if (shown?.id !== message.id) return;
  shown = message;
  const item = ui.thread.querySelector(`li[data-id="${message.id}"]`);
  const tag = item?.querySelector('.tag');
  if (message.folder === 'sent' && !tag) item?.querySelector('.mail-head')?.append(el('p', { class: 'tag' }, 'Sent'));
  renderReaderActions();
}

export function closeReader(): void {
  shown = undefined;
  ui.content.hidden = true;
  ui.empty.hidden = false;
  ui.thread.replaceChildren();
  ui.mailbox.classList.remove('reading');
}

export function focusReader(): void {
  ui.title.focus();
}
