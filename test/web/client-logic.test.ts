/**
 * The web inbox's pure logic, without a browser: how dates read, what Undo sends back (per message,
 * from where each one was), how the push stream's text is parsed, how reconnection backs off, and
 * which addresses are suggested.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatWhen } from '../../web/src/dates.js';
import { backoffMs, SseParser, stateOfEvent } from '../../web/src/sse.js';
import { suggestAddresses } from '../../web/src/suggest.js';
import { doneText, effectOf, inversePlan, type Place } from '../../web/src/undo.js';
import { SQLITE_PASS_ONLY } from '../helpers/services.js';

const skip = SQLITE_PASS_ONLY;
// A Thursday, mid-afternoon, UTC.
const NOW = new Date('2026-03-19T15:30:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

test('dates: "now", minutes, the time today, the weekday this week, the day and month this year, the year before', { skip }, () => {
  const text = (iso: string | null, timeZone = 'UTC') => formatWhen(iso, NOW, timeZone)?.text;
  assert.equal(text(ago(10_000)), 'now');
  assert.equal(text(ago(MINUTE)), '1 min');
  assert.equal(text(ago(3 * MINUTE + 59_000)), '3 min');
  assert.equal(text(ago(59 * MINUTE)), '59 min');
  assert.equal(text(ago(2 * HOUR)), '13:30');
  assert.equal(text('2026-03-19T00:05:00.000Z'), '00:05');
  assert.equal(text('2026-03-18T23:59:00.000Z'), 'Wed', 'yesterday, even 15 hours ago, is a weekday');
  assert.equal(text(ago(2 * DAY)), 'Tue');
  assert.equal(text(ago(6 * DAY)), 'Fri');
  assert.equal(text(ago(7 * DAY)), '12 Mar', 'a week ago would repeat today’s weekday: the date instead');
  assert.equal(text('2026-01-01T10:00:00.000Z'), '1 Jan');
  assert.equal(text('2025-12-31T10:00:00.000Z'), '31 Dec 2025');
});

test('dates: the exact time on hover, the machine time for <time>, nothing for a missing or unreadable time', { skip }, () => {
  const when = formatWhen('2026-03-12T09:05:07.000Z', NOW, 'UTC');
  assert.equal(when?.text, '12 Mar');
  assert.equal(when?.iso, '2026-03-12T09:05:07.000Z');
  // ICU versions differ in punctuation ("Thursday, 12 March" or "Thursday 12 March"): the parts are what matter.
  assert.match(when?.title ?? '', /^Thursday,? 12 March 2026 at 09:05:07 UTC$/);
  assert.equal(formatWhen(null, NOW), undefined);
  assert.equal(formatWhen(undefined, NOW), undefined);
  assert.equal(formatWhen('', NOW), undefined);
  assert.equal(formatWhen('not a date', NOW), undefined);
});

test('dates: calendar days are the reader’s own (time zone), and a server clock slightly ahead reads "now"', { skip }, () => {
  // 02:00 UTC on the 19th is today in London but 22:00 the day before in New York (where it is 11:30 now).
  assert.equal(formatWhen('2026-03-19T02:00:00.000Z', NOW, 'UTC')?.text, '02:00');
  assert.equal(formatWhen('2026-03-19T02:00:00.000Z', NOW, 'America/New_York')?.text, 'Wed');
  assert.equal(formatWhen(new Date(NOW.getTime() + 2 * MINUTE).toISOString(), NOW, 'UTC')?.text, 'now');
  assert.equal(formatWhen('2026-04-02T10:00:00.000Z', NOW, 'UTC')?.text, '2 Apr', 'far in the future: a date, never "-3 min"');
});

const inbox = (id: number, unread: 'Y' | 'N' = 'Y'): Place => ({ id, folder: 'inbox', unread });

test('undo: a move goes back to each message’s own folder, whatever folder the others came from', { skip }, () => {
  const before: Place[] = [inbox(1), { id: 2, folder: 'spam', unread: 'N' }, { id: 3, folder: 'trash', unread: 'Y' }];
  assert.deepEqual(before.map((place) => effectOf(place, { trash: true }).folder), ['trash', 'trash', 'trash']);
  // From Spam, back through "not spam" first (only that withdraws a report), then to Trash: in that order.
  assert.deepEqual(inversePlan(before, { spam: true }), [
    { ids: [1, 3], flags: { spam: false } },
    { ids: [3], flags: { trash: true } },
  ]);
  assert.deepEqual(inversePlan(before, { trash: true }), [
    { ids: [1], flags: { trash: false } },
    { ids: [2], flags: { spam: true } },
  ]);
  assert.deepEqual(inversePlan([{ id: 4, folder: 'spam', unread: 'Y' }], { spam: false }), [{ ids: [4], flags: { spam: true } }]);
  assert.deepEqual(inversePlan([{ id: 5, folder: 'trash', unread: 'N' }], { trash: false }), [{ ids: [5], flags: { trash: true } }]);
});

test('undo: read changes are reversed only for the messages they changed', { skip }, () => {
  const before = [inbox(1, 'Y'), inbox(2, 'N'), inbox(3, 'Y')];
  assert.deepEqual(inversePlan(before, { read: true }), [{ ids: [1, 3], flags: { read: false } }]);
  assert.deepEqual(inversePlan(before, { read: false }), [{ ids: [2], flags: { read: true } }]);
  assert.deepEqual(inversePlan([inbox(4, 'N')], { read: true }), [], 'nothing changed, nothing to undo');
});

test('undo: the contract’s rules (sent and deleted stay, spam wins over trash, flags as strings)', { skip }, () => {
  assert.deepEqual(effectOf({ id: 1, folder: 'sent', unread: 'N' }, { spam: true, read: false }), { id: 1, folder: 'sent', unread: 'N' });
  assert.deepEqual(effectOf({ id: 1, folder: 'sent', unread: 'N' }, { trash: true }), { id: 1, folder: 'deleted', unread: 'N' });
  assert.deepEqual(effectOf({ id: 1, folder: 'deleted', unread: 'Y' }, { trash: false }), { id: 1, folder: 'deleted', unread: 'Y' });
  assert.equal(effectOf(inbox(1), { trash: true, spam: true }).folder, 'spam');
  assert.equal(effectOf(inbox(1), { trash: 'true' }).folder, 'trash');
  assert.equal(effectOf(inbox(1), { read: 'true' }).unread, 'N');
  assert.equal(doneText('trash', 1), 'Moved to Trash');
  assert.equal(doneText('spam', 3), '3 messages reported as spam');
});

test('push stream: events at blank lines, comments and retry hints, lines split anywhere and ended by \\n, \\r\\n or \\r', { skip }, () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push('retry: 3000\n\nevent: state\ndata: {"sta'), []);
  assert.equal(parser.retry, 3000);
  assert.deepEqual(parser.push('te":"A"}\n\n: keep-alive\n\n'), [{ event: 'state', data: '{"state":"A"}' }]);
  assert.deepEqual(parser.push('event: state\r\ndata: {"state":"B"}\r'), []);
  assert.deepEqual(parser.push('\n\r\n'), [{ event: 'state', data: '{"state":"B"}' }]);
  assert.deepEqual(parser.push('data: one\ndata: two\n\n'), [{ event: 'message', data: 'one\ntwo' }]);
  assert.equal(stateOfEvent({ event: 'state', data: '{"state":"C"}' }), 'C');
  assert.equal(stateOfEvent({ event: 'state', data: 'nonsense' }), undefined);
  assert.equal(stateOfEvent({ event: 'message', data: '{"state":"C"}' }), undefined);
});

test('push stream: reconnection waits longer after each failure, up to 30 s, never in step with other tabs', { skip }, () => {
  assert.deepEqual([0, 1, 2, 3].map((attempt) => backoffMs(attempt, 1)), [1000, 2000, 4000, 8000]);
  assert.equal(backoffMs(0, 0), 500);
  assert.equal(backoffMs(20, 1), 30_000);
  assert.equal(backoffMs(20, 0), 15_000);
});

test('suggestions: a few addresses that start with what was typed, or have a word that does; never the whole list', { skip }, () => {
  const known = ['ada@example.com', 'bob@example.com', 'carol.king@example.com', 'Dan@Example.com', 'dan@example.com', 'kate@work.org'];
  assert.deepEqual(suggestAddresses(known, ''), []);
  assert.deepEqual(suggestAddresses(known, '  '), []);
  assert.deepEqual(suggestAddresses(known, 'k'), ['kate@work.org', 'carol.king@example.com']);
  assert.deepEqual(suggestAddresses(known, 'DAN'), ['Dan@Example.com'], 'one address in two letter cases, once');
  assert.deepEqual(suggestAddresses(known, 'work'), ['kate@work.org']);
  assert.deepEqual(suggestAddresses(known, 'bob@example.com'), [], 'exactly what is typed is nothing to suggest');
  const many = Array.from({ length: 50 }, (_, index) => `user${index}@example.com`);
  assert.equal(suggestAddresses(many, 'user').length, 6);
  assert.equal(suggestAddresses(many, 'e').length, 6);
});
