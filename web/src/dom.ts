/**
 * Small DOM helpers shared by the views. `el()` builds elements from text and attributes only: API data
 * never reaches the page as HTML, so nothing in a message can run or restyle the page.
 */

export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} is missing from the page`);
  return found;
}

type Attributes = Record<string, string | number | boolean | undefined>;

/**
 * An element with attributes (true: present, false/undefined: absent) and children (strings become
 * text nodes). `el('span', { class: 'subject', dir: 'auto' }, subject)`.
 */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children);
  return element;
}

const ui = {
  error: () => byId('error', HTMLParagraphElement),
  status: () => byId('status', HTMLParagraphElement),
  announcer: () => byId('announcer', HTMLParagraphElement),
};

/**
 * What the banner's error is about. 'reach': the server could not be reached or failed (5xx), so any
 * answer from it makes the banner stale; 'list': the folder could not be loaded, so only the folder
 * loading clears it; 'other': a refusal (4xx), cleared by the person's next step.
 */
type ErrorKind = 'reach' | 'list' | 'other';
let errorKind: ErrorKind | undefined;

/** The error banner (role=alert: read out without moving focus, so the person stays where they were). */
export function showError(text: string, options: { kind?: ErrorKind } = {}): void {
  const banner = ui.error();
  banner.textContent = text;
  banner.hidden = false;
  errorKind = options.kind ?? 'other';
  ui.status().textContent = '';
}

export function clearError(only?: ErrorKind): void {
  if (only !== undefined && errorKind !== only) return;
  const banner = ui.error();
  banner.hidden = true;
  banner.textContent = '';
  errorKind = undefined;
}

/** The server answered again: a "cannot reach" or "server failed" banner no longer holds. */
export function serverReached(): void {
  clearError('reach');
}

export function showStatus(text: string): void {
  clearError();
  ui.status().textContent = text;
}

/** Said to screen readers only (new mail, a list loaded): the visible page already shows it. */
export function announce(text: string): void {
  const announcer = ui.announcer();
  // The same text twice in a row is only read again if the region changes in between.
  announcer.textContent = '';
  requestAnimationFrame(() => {
    announcer.textContent = text;
  });
}

/** Whether a key press is typing (in a field) rather than a shortcut. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
  return false;
}
