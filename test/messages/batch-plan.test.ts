/**
 * planChange against the contract's folder-rules table, case by case: every current folder ×
 * read/trash/spam each absent/true/false (5 × 27 = 135 cases), from both unread marks.
 * The expectation below is written from the contract's wording, not from planChange.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Folder, UnreadMark } from '../../src/db/database.js';
import { InvalidOption, InvalidRequest } from '../../src/errors.js';
import { type BatchFlags, type FlagValue, parseBatchCommand, planChange, type SpamEffect } from '../../src/modules/messages/batch-update.js';
import type { BatchUpdate } from '../../src/modules/messages/messages.schemas.js';

const FOLDERS: Folder[] = ['inbox', 'trash', 'spam', 'sent', 'deleted'];
const FLAG_VALUES: FlagValue[] = [undefined, true, false];
const UNREAD_MARKS: UnreadMark[] = ['Y', 'N'];

interface Expected {
  folder: Folder;
  unread: UnreadMark;
  spam: SpamEffect;
}

/**
 * The contract, row by row:
 * - `deleted`: nothing.
 * - `sent`: `trash: true` moves it to `deleted`; every other flag is ignored.
 * - inbox/trash/spam: the spam flag, when given, decides the folder (spam → spam, not spam → inbox),
 *   because it is applied after trash; otherwise the trash flag, when given, decides it
 *   (trash → trash, not trash → inbox); otherwise the folder stays. read → "N", not read → "Y".
 * - The spam effect: a report when spam is true and a withdrawal when spam is false, on a message
 *   that is neither sent nor deleted; nothing otherwise.
 */
function contractExpectation(folder: Folder, unread: UnreadMark, flags: BatchFlags): Expected {
  switch (folder) {
    case 'deleted':
      return { folder: 'deleted', unread, spam: 'none' };
    case 'sent':
      return { folder: flags.trash === true ? 'deleted' : 'sent', unread, spam: 'none' };
    case 'inbox':
    case 'trash':
    case 'spam': {
      const folderBySpam: Record<'true' | 'false', Folder> = { true: 'spam', false: 'inbox' };
      const folderByTrash: Record<'true' | 'false', Folder> = { true: 'trash', false: 'inbox' };
      const unreadByRead: Record<'true' | 'false', UnreadMark> = { true: 'N', false: 'Y' };
      const spamEffect: Record<'true' | 'false', SpamEffect> = { true: 'report', false: 'withdraw' };
      const key = (value: FlagValue) => (value === undefined ? undefined : value ? 'true' : 'false');
      const spamKey = key(flags.spam);
      const trashKey = key(flags.trash);
      const readKey = key(flags.read);
      return {
        folder: spamKey ? folderBySpam[spamKey] : trashKey ? folderByTrash[trashKey] : folder,
        unread: readKey ? unreadByRead[readKey] : unread,
        spam: spamKey ? spamEffect[spamKey] : 'none',
      };
    }
  }
}

function show(value: FlagValue): string {
  return value === undefined ? 'absent' : String(value);
}

// A few rows spelled out by hand, so the expectation function itself is checked against the text.
test('the expectation function agrees with hand-written rows of the contract', () => {
  assert.deepEqual(contractExpectation('inbox', 'Y', { read: true, trash: true, spam: true }), { folder: 'spam', unread: 'N', spam: 'report' });
  assert.deepEqual(contractExpectation('spam', 'N', { read: false, trash: true, spam: undefined }), { folder: 'trash', unread: 'Y', spam: 'none' });
  assert.deepEqual(contractExpectation('trash', 'Y', { read: undefined, trash: true, spam: false }), { folder: 'inbox', unread: 'Y', spam: 'withdraw' });
  assert.deepEqual(contractExpectation('sent', 'Y', { read: true, trash: true, spam: true }), { folder: 'deleted', unread: 'Y', spam: 'none' });
  assert.deepEqual(contractExpectation('sent', 'N', { read: false, trash: false, spam: false }), { folder: 'sent', unread: 'N', spam: 'none' });
  assert.deepEqual(contractExpectation('deleted', 'Y', { read: true, trash: true, spam: true }), { folder: 'deleted', unread: 'Y', spam: 'none' });
  assert.deepEqual(contractExpectation('inbox', 'N', { read: undefined, trash: undefined, spam: undefined }), { folder: 'inbox', unread: 'N', spam: 'none' });
});

for (const folder of FOLDERS) {
  for (const unread of UNREAD_MARKS) {
    describe(`planChange from folder ${folder}, unread ${unread}`, () => {
      for (const read of FLAG_VALUES) {
        for (const trash of FLAG_VALUES) {
          for (const spam of FLAG_VALUES) {
            const flags: BatchFlags = { read, trash, spam };
            const expected = contractExpectation(folder, unread, flags);
            test(`read ${show(read)}, trash ${show(trash)}, spam ${show(spam)} → ${expected.folder}/${expected.unread}, spam effect ${expected.spam}`, () => {
              const current = { folder, unread };
              const snapshot = { ...current };
              const planned = planChange(current, flags);
              assert.deepEqual(planned, { next: { folder: expected.folder, unread: expected.unread }, spam: expected.spam });
              assert.deepEqual(current, snapshot, 'planChange must not modify its input');
            });
          }
        }
      }
    });
  }
}

test('the table covers 135 distinct (folder, read, trash, spam) cases', () => {
  const cases = new Set<string>();
  for (const folder of FOLDERS) for (const read of FLAG_VALUES) for (const trash of FLAG_VALUES) for (const spam of FLAG_VALUES) {
    cases.add(`${folder}/${show(read)}/${show(trash)}/${show(spam)}`);
  }
  assert.equal(cases.size, 135);
});

describe('parseBatchCommand', () => {
  const body = (fields: Partial<BatchUpdate> & { message_id_list: number[] }): BatchUpdate => fields;

  test('"true"/"false" strings become booleans and absent or null flags become undefined', () => {
    assert.deepEqual(parseBatchCommand(body({ message_id_list: [3, 1], read: 'true', trash: 'false' })), {
      messageIds: [3, 1],
      read: true,
      trash: false,
      spam: undefined,
    });
    assert.deepEqual(parseBatchCommand(body({ message_id_list: [1], read: null, trash: null, spam: null })), {
      messageIds: [1],
      read: undefined,
      trash: undefined,
      spam: undefined,
    });
  });

  test('JSON booleans are taken as they are', () => {
    assert.deepEqual(parseBatchCommand(body({ message_id_list: [1], read: false, trash: true, spam: false })), {
      messageIds: [1],
      read: false,
      trash: true,
      spam: false,
    });
  });

  test('repeated ids are kept once, in the order first sent', () => {
    assert.deepEqual(parseBatchCommand(body({ message_id_list: [5, 2, 5, 9, 2] })).messageIds, [5, 2, 9]);
  });

  test('an empty list is refused with "Please provide message IDs." (422)', () => {
    assert.throws(
      () => parseBatchCommand(body({ message_id_list: [] })),
      (error: unknown) => error instanceof InvalidRequest && error.statusCode === 422 && error.detail === 'Please provide message IDs.',
    );
  });

  test('ten ids are accepted and eleven are refused with "Requested too many messages." (422)', () => {
    const ten = Array.from({ length: 10 }, (_, index) => index + 1);
    assert.deepEqual(parseBatchCommand(body({ message_id_list: ten })).messageIds, ten);
    assert.throws(
      () => parseBatchCommand(body({ message_id_list: [...ten, 11] })),
      (error: unknown) => error instanceof InvalidRequest && error.statusCode === 422 && error.detail === 'Requested too many messages.',
    );
  });

  for (const value of ['yes', 'TRUE', 'False', '1', '0', '', ' true', 'null']) {
    test(`a flag of ${JSON.stringify(value)} is refused with "Invalid option: ${value}" (422)`, () => {
      for (const flag of ['read', 'trash', 'spam'] as const) {
        assert.throws(
          () => parseBatchCommand(body({ message_id_list: [1], [flag]: value })),
          (error: unknown) => error instanceof InvalidOption && error.statusCode === 422 && error.detail === `Invalid option: ${value}`,
        );
      }
    });
  }
});
