/**
 * Keyboard shortcuts, as mail clients have them: j/k move, x selects, o or Enter opens, u or Escape
 * goes back, r replies, e or # trashes, ! reports spam, z undoes, c composes, / searches, ? lists them.
 * A key typed into a field is text, never a shortcut; keys with Ctrl, Alt or Meta belong to the browser.
 */
import { isTyping } from './dom.js';

export interface KeyHandlers {
  move(delta: 1 | -1): void;
  toggleSelect(): void;
  open(): void;
  back(): boolean;
  reply(): void;
  trash(): void;
  spam(): void;
  undo(): void;
  compose(): void;
  search(): void;
  help(): void;
  /** whether the mailbox is on screen (not the sign-in form) */
  active(): boolean;
}

export function initKeyboard(handlers: KeyHandlers): void {
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (!handlers.active() || isTyping(event.target)) return;
    // A dialog open (the shortcuts list, a question about a draft) has the keyboard to itself.
    if (document.querySelector('dialog[open]')) return;
    const target = event.target instanceof Element ? event.target : null;
    const run = (handler: () => void) => {
      event.preventDefault();
      handler();
    };
    switch (event.key) {
      case 'j':
        return run(() => handlers.move(1));
      case 'k':
        return run(() => handlers.move(-1));
      case 'x':
        return run(handlers.toggleSelect);
      case 'o':
        return run(handlers.open);
      case 'Enter':
        // Enter on a button or link is that control's own; elsewhere (the list, the page) it opens.
        if (target?.closest('button, a, summary, input')) return;
        return run(handlers.open);
      case 'u':
        return run(() => void handlers.back());
      case 'Escape':
        if (handlers.back()) event.preventDefault();
        return;
      case 'r':
        return run(handlers.reply);
      case 'e':
      case '#':
        return run(handlers.trash);
      case '!':
        return run(handlers.spam);
      case 'z':
        return run(handlers.undo);
      case 'c':
        return run(handlers.compose);
      case '/':
        return run(handlers.search);
      case '?':
        return run(handlers.help);
      default:
        return;
    }
  });
}
