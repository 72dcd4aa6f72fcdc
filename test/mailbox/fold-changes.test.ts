/**
 * foldChanges, the pure step from changed rows to a page of /changes: which list each message goes
 * in, how a page is cut at the limit, and the state it leaves the client at. The rows are what
 * readChanges gives: after the state asked from, in (step, id, sent) order, a message to oneself as
 * two rows (its received and its sent side). Bob (user 7) is the mailbox's owner throughout.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Folder } from '../../src/db/database.js';
import type { ChangeRow } from '../../src/modules/mailbox/mailbox-changes.repository.js';
import { type ChangesPage, foldChanges } from '../../src/modules/mailbox/mailbox-changes.js';
import { lastIdSeen, type MailboxState } from '../../src/modules/mailbox/mailbox-state.js';

const BOB = 7;
const ADA = 3;

/** Bob's side of a message he received, changed at step `seq`; it arrived at step `created` (null: before steps were kept). */
function received(id: number, seq: number, options: { created?: number | null; folder?: Folder; from?: number } = {}): ChangeRow {
  return { id, from_userid: options.from ?? ADA, folder: options.folder ?? 'inbox', seq, created_seq: options.created === undefined ? seq : options.created, sent: false };
}

/** Bob's side of a message he sent at step `seq` (the folder is the recipient's, which Bob never sees). */
function sent(id: number, seq: number, folder: Folder = 'inbox'): ChangeRow {
  return { id, from_userid: BOB, folder, seq, created_seq: seq, sent: true };
}

const whole = (seq: number): MailboxState => ({ seq, afterId: 0, base: seq });

type Expected = Omit<ChangesPage, 'newState' | 'hasMoreChanges'> & { newState?: MailboxState; hasMoreChanges?: boolean };

interface Case {
  story: string;
  since: MailboxState;
  rows: ChangeRow[];
  limit?: number;
  current: number;
  expected: Expected;
}

function check({ since, rows, limit = 500, current, expected }: Case): void {
  const page = foldChanges(BOB, since, rows, limit, current);
  assert.deepEqual(page, {
    created: expected.created,
    updated: expected.updated,
    destroyed: expected.destroyed,
    newState: expected.newState ?? whole(current),
    hasMoreChanges: expected.hasMoreChanges ?? false,
  });
}

describe('foldChanges: each message once, in the list that tells the client what to do with it', () => {
  const cases: Case[] = [
    {
      story: 'nothing changed: empty lists, and the client is at the current step',
      since: whole(4),
      rows: [],
      current: 4,
      expected: { created: [], updated: [], destroyed: [] },
    },
    {
      story: 'a message that arrived after the state is created',
      since: whole(4),
      rows: [received(10, 5)],
      current: 5,
      expected: { created: [10], updated: [], destroyed: [] },
    },
    {
      story: 'a message that arrived before the state and was read since is updated',
      since: whole(4),
      rows: [received(10, 6, { created: 2 })],
      current: 6,
      expected: { created: [], updated: [10], destroyed: [] },
    },
    {
      story: 'a message that arrived exactly at the state’s step is part of it: updated, not created',
      since: whole(4),
      rows: [received(10, 6, { created: 4 })],
      current: 6,
      expected: { created: [], updated: [10], destroyed: [] },
    },
    {
      story: 'a message from before steps were kept (no arrival step) that changed is updated',
      since: whole(4),
      rows: [received(10, 5, { created: null, folder: 'trash' })],
      current: 5,
      expected: { created: [], updated: [10], destroyed: [] },
    },
    {
      story: 'a message that arrived and was then moved to spam, both after the state, is created only',
      since: whole(4),
      rows: [received(10, 8, { created: 5, folder: 'spam' })],
      current: 8,
      expected: { created: [10], updated: [], destroyed: [] },
    },
    {
      story: 'a message Bob sent is created, whatever folder its recipient keeps it in (even deleted)',
      since: whole(4),
      rows: [sent(10, 5, 'trash'), sent(11, 6, 'deleted'), sent(12, 7, 'spam')],
      current: 7,
      expected: { created: [10, 11, 12], updated: [], destroyed: [] },
    },
    {
      story: 'an old sent-folder row Bob received that moved to deleted is destroyed',
      since: whole(4),
      rows: [received(10, 5, { created: null, folder: 'deleted' })],
      current: 5,
      expected: { created: [], updated: [], destroyed: [10] },
    },
    {
      story: 'destroyed wins over created and updated',
      since: whole(4),
      rows: [received(10, 6, { created: 5, folder: 'deleted' }), received(11, 7, { created: 1, folder: 'deleted' })],
      current: 7,
      expected: { created: [], updated: [], destroyed: [10, 11] },
    },
    {
      story: 'a message to oneself that moved to deleted stays in the mailbox as sent: updated, not destroyed',
      since: whole(4),
      rows: [received(10, 5, { created: null, folder: 'deleted', from: BOB })],
      current: 5,
      expected: { created: [], updated: [10], destroyed: [] },
    },
    {
      story: 'a message to oneself sent after the state (its two rows, one step) is created once',
      since: whole(4),
      rows: [received(10, 5, { from: BOB }), sent(10, 5)],
      current: 5,
      expected: { created: [10], updated: [], destroyed: [] },
    },
    {
      story: 'a message to oneself sent after the state and read later (its two rows at two steps) is created once',
      since: whole(4),
      rows: [sent(10, 5), received(11, 6), received(10, 7, { created: 5, from: BOB })],
      current: 7,
      expected: { created: [10, 11], updated: [], destroyed: [] },
    },
    {
      story: 'a message to oneself sent before the state and trashed since (only its received row) is updated',
      since: whole(4),
      rows: [received(10, 6, { created: 3, folder: 'trash', from: BOB })],
      current: 6,
      expected: { created: [], updated: [10], destroyed: [] },
    },
    {
      story: 'ids are listed in the order of their first row, each list on its own',
      since: whole(4),
      rows: [
        received(30, 5, { created: 2 }),
        received(12, 5, { created: 1 }),
        sent(40, 6),
        received(20, 7),
        received(5, 8, { created: null, folder: 'deleted' }),
        received(15, 9, { created: 7 }),
      ],
      current: 9,
      expected: { created: [40, 20, 15], updated: [30, 12], destroyed: [5] },
    },
    {
      story: 'the new state is the current step, even past the last row (a message changed again is read at its last step only)',
      since: whole(4),
      rows: [received(10, 5)],
      current: 9,
      expected: { created: [10], updated: [], destroyed: [] },
    },
  ];
  for (const entry of cases) test(entry.story, () => check(entry));
});

describe('foldChanges: a page holds at most `limit` ids and is cut only where a new id begins', () => {
  const cases: Case[] = [
    {
      story: 'five messages, limit 3: the first three, and the client is left right after the third (its step, its id)',
      since: whole(4),
      rows: [received(10, 5), received(11, 6), received(12, 7), received(13, 8), received(14, 9)],
      limit: 3,
      current: 9,
      expected: { created: [10, 11, 12], updated: [], destroyed: [], newState: { seq: 7, afterId: 12, base: 4 }, hasMoreChanges: true },
    },
    {
      story: 'exactly `limit` messages: all of them, nothing more to come, and the client is at the current step',
      since: whole(4),
      rows: [received(10, 5), received(11, 6), received(12, 7)],
      limit: 3,
      current: 7,
      expected: { created: [10, 11, 12], updated: [], destroyed: [] },
    },
    {
      story: 'a later row of an id already taken is taken past the limit, and the cut comes before the next new id',
      since: whole(4),
      // A message to oneself (10): sent at step 5, read at step 7; then Ada's 12 at step 8.
      rows: [sent(10, 5), received(11, 6), received(10, 7, { created: 5, from: BOB }), received(12, 8)],
      limit: 2,
      current: 8,
      expected: { created: [10, 11], updated: [], destroyed: [], newState: { seq: 7, afterId: 10, base: 4 }, hasMoreChanges: true },
    },
    {
      story: 'limit 1: both rows of a message to oneself at one step make one id, and the page ends after the second',
      since: whole(4),
      rows: [received(10, 5, { from: BOB }), sent(10, 5), received(11, 6)],
      limit: 1,
      current: 6,
      expected: { created: [10], updated: [], destroyed: [], newState: { seq: 5, afterId: 10, base: 4 }, hasMoreChanges: true },
    },
    {
      story: 'a batch of five read at one step, limit 2: the page ends inside the step, after the second message',
      since: whole(4),
      rows: [21, 22, 23, 24, 25].map((id) => received(id, 6, { created: 1 })),
      limit: 2,
      current: 6,
      expected: { created: [], updated: [21, 22], destroyed: [], newState: { seq: 6, afterId: 22, base: 4 }, hasMoreChanges: true },
    },
  ];
  for (const entry of cases) test(entry.story, () => check(entry));
});

describe('foldChanges from a state inside a step (after id > 0), as the next page asks', () => {
  const cases: Case[] = [
    {
      story: 'the rest of a batch after a cut is updated; the client is then at the current step',
      since: { seq: 6, afterId: 22, base: 4 },
      rows: [23, 24, 25].map((id) => received(id, 6, { created: 1 })),
      current: 6,
      expected: { created: [], updated: [23, 24, 25], destroyed: [] },
    },
    {
      story: 'new or not is decided by the step the client began paging from (base), not by where the last page cut: what arrived after it is created',
      since: { seq: 6, afterId: 20, base: 4 },
      rows: [received(25, 6), received(15, 8, { created: 6 }), received(30, 9, { created: 7 }), received(18, 9, { created: 3, folder: 'spam' })],
      current: 9,
      expected: { created: [25, 15, 30], updated: [18], destroyed: [] },
    },
    {
      story: 'a whole step includes every message of it, whatever its id',
      since: whole(6),
      rows: [received(900, 8, { created: 6 })],
      current: 8,
      expected: { created: [], updated: [900], destroyed: [] },
    },
  ];
  for (const entry of cases) test(entry.story, () => check(entry));
});

/**
 * A small mailbox's history as rows, and readChanges's selection over them (after the state, in
 * (step, id, sent) order, 2 × limit + 1 of them): paging through it with every limit must give every
 * message in its list, each once, and end at the current step.
 */
describe('foldChanges page after page: every limit ends where one page ends', () => {
  const current = 12;
  const history: ChangeRow[] = [
    received(1, 5, { created: 2 }), // arrived before, read at 5
    received(2, 5, { created: null }), // from before steps, read at 5
    received(40, 6), // arrived at 6
    sent(41, 7, 'trash'), // Bob sent it at 7
    ...[3, 4, 5, 6, 7, 8, 9].map((id) => received(id, 8, { created: 3, folder: 'trash' })), // a batch of 7 at 8
    received(42, 10, { created: 9, folder: 'spam' }), // arrived at 9, spam at 10
    received(43, 11, { created: null, folder: 'deleted' }), // an old sent-folder row, deleted at 11
    received(44, 12, { from: BOB }), // to himself at 12
    sent(44, 12),
  ];
  const expected = { created: [40, 41, 42, 44], updated: [1, 2, 3, 4, 5, 6, 7, 8, 9], destroyed: [43] };

  const byPosition = (a: ChangeRow, b: ChangeRow) => a.seq - b.seq || a.id - b.id || Number(a.sent) - Number(b.sent);
  function readChanges(since: MailboxState, count: number): ChangeRow[] {
    return history
      .filter((row) => row.seq > since.seq || (row.seq === since.seq && row.id > lastIdSeen(since)))
      .sort(byPosition)
      .slice(0, count);
  }

  test('one page with room for all: the whole history folded', () => {
    check({ story: '', since: whole(4), rows: readChanges(whole(4), 1001), current, expected });
  });

  for (const limit of [1, 2, 3, 4, 5, 7, 13, 14]) {
    test(`limit ${limit}: pages of at most ${limit} ids, no id twice, the same lists, ending at step ${current}`, () => {
      let since = whole(4);
      const seen = { created: [] as number[], updated: [] as number[], destroyed: [] as number[] };
      for (let pages = 1; ; pages += 1) {
        assert.ok(pages <= 14, 'paging does not end');
        const page = foldChanges(BOB, since, readChanges(since, 2 * limit + 1), limit, current);
        const ids = [...page.created, ...page.updated, ...page.destroyed];
        assert.ok(ids.length >= 1 && ids.length <= limit, `page ${pages}: ${JSON.stringify(page)}`);
        seen.created.push(...page.created);
        seen.updated.push(...page.updated);
        seen.destroyed.push(...page.destroyed);
        if (page.hasMoreChanges) {
          assert.ok(page.newState.afterId > 0, 'a cut names the last message taken');
        } else {
          assert.deepEqual(page.newState, whole(current));
          break;
        }
        since = page.newState;
      }
      const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);
      assert.deepEqual({ created: sorted(seen.created), updated: sorted(seen.updated), destroyed: sorted(seen.destroyed) }, expected);
    });
  }
});
