/**
 * From changed rows to a page of changes (pure): each message once, in the list that tells a client
 * what to do with its copy: fetch it (created), refetch it (updated), or drop it (destroyed).
 */
import type { ChangeRow } from './mailbox-changes.repository.js';
import { type MailboxState, wholeStep } from './mailbox-state.js';

export interface ChangesPage {
  created: number[];
  updated: number[];
  destroyed: number[];
  /** the state the client is at once it applied this page */
  newState: MailboxState;
  hasMoreChanges: boolean;
}

type Kind = 'created' | 'updated' | 'destroyed';
/** Of two rows of one message (its received and sent sides), the stronger kind wins. */
const STRENGTH: Record<Kind, number> = { updated: 0, created: 1, destroyed: 2 };

function kindOf(row: ChangeRow, userId: number, since: MailboxState): Kind {
  if (row.sent) return 'created';
  // `deleted` takes received mail out of the mailbox, unless its owner sent it to themselves: it stays as sent.
  if (row.folder === 'deleted' && row.from_userid !== userId) return 'destroyed';
  // New to the client unless it arrived by the step the client held when it began paging (`base`): a
  // message that arrived during the paging and changed again is still new, whichever page tells it.
  return row.created_seq !== null && row.created_seq > since.base ? 'created' : 'updated';
}

/**
 * Folds rows read in (seq, id) order into at most `limit` ids. When the rows go on past the limit, the
 * page ends after the last (seq, id) it took and its new state points there; otherwise the new state
 * is the current step.
 */
export function foldChanges(userId: number, since: MailboxState, rows: readonly ChangeRow[], limit: number, current: number): ChangesPage {
  const kinds = new Map<number, Kind>();
  let last: ChangeRow | undefined;
  let taken = 0;
  for (const row of rows) {
    if (!kinds.has(row.id) && kinds.size === limit) break;
    const kind = kindOf(row, userId, since);
    const known = kinds.get(row.id);
    if (known === undefined || STRENGTH[kind] > STRENGTH[known]) kinds.set(row.id, kind);
    last = row;
    taken += 1;
  }
  const hasMoreChanges = taken < rows.length;
  const listOf = (kind: Kind) => [...kinds].filter(([, value]) => value === kind).map(([id]) => id);
  return {
    created: listOf('created'),
    updated: listOf('updated'),
    destroyed: listOf('destroyed'),
    newState: hasMoreChanges && last ? { seq: last.seq, afterId: last.id, base: since.base } : wholeStep(current),
    hasMoreChanges,
  };
}
