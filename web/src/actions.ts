/**
 * Actions on messages (read, trash, spam and their opposites) and their Undo. An action is sent as
 * PUT /msg/list/ (in requests of at most 10 ids), the rows are updated in place from the contract's
 * rules, and a toast offers Undo: the inverse batches worked out per message from where each one was
 * (undo.ts), so messages that came from different folders each go back to their own.
 */
import type { Api, MailMessage } from './api.js';
import { byId, clearError } from './dom.js';
import { ACTION_FLAGS, type Action, doneText, effectOf, inversePlan } from './undo.js';

export interface ActionHandlers {
  /** the messages are now as given: update rows, the reader and the counts */
  changed(messages: MailMessage[], cause: 'action' | 'undo'): void;
  /** something failed: report it (and re-read the mailbox, whose state is now unsure) */
  failed(error: unknown): void;
  busy(on: boolean): void;
}

interface Undoable {
  before: MailMessage[];
  action: Action;
}

const ui = {
  toast: byId('toast', HTMLDivElement),
  text: byId('toast-text', HTMLSpanElement),
  undo: byId('toast-undo', HTMLButtonElement),
  close: byId('toast-close', HTMLButtonElement),
};

let api: Api | undefined;
let handlers: ActionHandlers | undefined;
let last: Undoable | undefined;
let running = false;

export function initActions(client: Api, actionHandlers: ActionHandlers): void {
  api = client;
  handlers = actionHandlers;
  ui.undo.addEventListener('click', () => void undo());
  ui.close.addEventListener('click', () => dismissToast());
}

function showToast(text: string, undoable: boolean): void {
  ui.text.textContent = text;
  ui.undo.hidden = !undoable;
  ui.toast.hidden = false;
}

/** The toast goes (a new folder, sign out, or dismissed); its Undo with it. */
export function dismissToast(): void {
  const hadFocus = ui.toast.contains(document.activeElement);
  ui.toast.hidden = true;
  last = undefined;
  if (hadFocus) document.getElementById('main')?.focus();
}

export function canUndo(): boolean {
  return last !== undefined && !running;
}

/** Applies an action to these messages; answers whether it was done. */
export async function act(messages: readonly MailMessage[], action: Action): Promise<boolean> {
  if (!api || running || messages.length === 0) return false;
  const before = [...messages];
  running = true;
  handlers?.busy(true);
  try {
    await api.update(
      before.map((message) => message.id),
      ACTION_FLAGS[action],
    );
  } catch (error) {
    handlers?.failed(error);
    return false;
  } finally {
    running = false;
    handlers?.busy(false);
  }
  clearError();
  const after = before.map((message) => ({ ...message, ...effectOf(message, ACTION_FLAGS[action]) }));
  last = { before, action };
  showToast(doneText(action, before.length), inversePlan(before, ACTION_FLAGS[action]).length > 0);
  handlers?.changed(after, 'action');
  return true;
}

/** Undo (the toast's button or `z`): the inverse requests in order, then the rows as they were. */
export async function undo(): Promise<void> {
  if (!api || !last || running) return;
  const { before, action } = last;
  const steps = inversePlan(before, ACTION_FLAGS[action]);
  running = true;
  handlers?.busy(true);
  try {
    for (const step of steps) await api.update(step.ids, step.flags);
  } catch (error) {
    handlers?.failed(error);
    return;
  } finally {
    running = false;
    handlers?.busy(false);
  }
  last = undefined;
  showToast(before.length === 1 ? 'Undone.' : `Undone: ${before.length} messages are back as they were.`, false);
  handlers?.changed(before, 'undo');
}
