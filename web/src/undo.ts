/**
 * What an action does to a message, and the batches that put it back (Undo). Pure: it follows the
 * contract's rules for PUT /msg/list/ (CONTRACT.md, "The batch update") and is unit-tested without a
 * browser. The inverse is worked out per message from the state it had before, because one selection
 * can hold messages that came from different folders (a search, a reading pane, a live update) or
 * with different read states, and each must go back to where it was, not to where most of them were.
 */
import type { BatchFlags } from './api.js';

export type Action = 'read' | 'unread' | 'trash' | 'restore' | 'spam' | 'not-spam';

export const ACTION_FLAGS: Record<Action, BatchFlags> = {
  read: { read: true },
  unread: { read: false },
  trash: { trash: true },
  restore: { trash: false },
  spam: { spam: true },
  'not-spam': { spam: false },
};

/** "Moved to Trash", "3 messages marked read": what the status line says after an action. */
export function doneText(action: Action, count: number): string {
  const what = count === 1 ? '' : `${count} messages `;
  const verbs: Record<Action, string> = {
    read: 'marked read',
    unread: 'marked unread',
    trash: 'moved to Trash',
    restore: 'moved to Inbox',
    spam: 'reported as spam',
    'not-spam': 'moved to Inbox: not spam',
  };
  const text = `${what}${verbs[action]}`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The part of a message that actions change. */
export interface Place {
  id: number;
  folder: string;
  unread: 'Y' | 'N';
}

function isTrue(flag: BatchFlags[keyof BatchFlags]): boolean {
  return flag === true || flag === 'true';
}
function isFalse(flag: BatchFlags[keyof BatchFlags]): boolean {
  return flag === false || flag === 'false';
}

/** The message after PUT /msg/list/ with these flags, by the contract's folder rules. */
export function effectOf(before: Place, flags: BatchFlags): Place {
  if (before.folder === 'deleted') return before;
  if (before.folder === 'sent') return isTrue(flags.trash) ? { ...before, folder: 'deleted' } : before;
  let folder = before.folder;
  if (isTrue(flags.trash)) folder = 'trash';
  else if (isFalse(flags.trash)) folder = 'inbox';
  // spam is applied after trash, so it wins
  if (isTrue(flags.spam)) folder = 'spam';
  else if (isFalse(flags.spam)) folder = 'inbox';
  let unread = before.unread;
  if (isTrue(flags.read)) unread = 'N';
  else if (isFalse(flags.read)) unread = 'Y';
  return { id: before.id, folder, unread };
}

/** One request of an undo: these ids, these flags. */
export interface Step {
  ids: number[];
  flags: BatchFlags;
}

/**
 * The flags, in order, that move a message from one folder back to another. Leaving Spam always goes
 * through `spam: false`, never `trash: false`: only "not spam" withdraws the report that the action made
 * (a report moved to Trash withdraws nothing), so an undone report leaves the sender's counter as it was.
 */
function folderSteps(from: string, to: string): BatchFlags[] {
  if (from === to) return [];
  if (to === 'inbox') return [from === 'spam' ? { spam: false } : { trash: false }];
  if (to === 'trash') return from === 'spam' ? [{ spam: false }, { trash: true }] : [{ trash: true }];
  if (to === 'spam') return [{ spam: true }];
  // sent and deleted cannot be gone back to
  return [];
}

/**
 * The requests that undo `flags` on messages that were at `before`, in order (the requests of one
 * phase may run together; a later phase needs the earlier one done). Messages the action left as they
 * were need nothing.
 */
export function inversePlan(before: readonly Place[], flags: BatchFlags): Step[] {
  const phases: Map<string, Step>[] = [];
  for (const message of before) {
    const after = effectOf(message, flags);
    const steps = folderSteps(after.folder, message.folder).map((step) => ({ ...step }));
    if (after.unread !== message.unread) {
      const read = { read: message.unread === 'N' };
      if (steps[0]) Object.assign(steps[0], read);
      else steps.push(read);
    }
    steps.forEach((step, phase) => {
      const groups = (phases[phase] ??= new Map());
      const key = JSON.stringify(step);
      const group = groups.get(key);
      if (group) group.ids.push(message.id);
      else groups.set(key, { ids: [message.id], flags: step });
    });
  }
  return phases.flatMap((groups) => [...groups.values()]);
}
