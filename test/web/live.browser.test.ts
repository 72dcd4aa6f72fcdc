/**
 * The web inbox in Chromium, live and safe: mail and changes from elsewhere arrive without a reload
 * (push stream + changes feed), Undo puts each message back where it was, and the three things issue 16
 * saw and must never happen again: late answers shown under another folder's name, rows of the folder
 * before left to act on after a failed load (with an error banner that outlives the outage), and
 * actions offered that make no sense in the folder being loaded. axe-core runs in every state.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  batch,
  buildWeb,
  checkA11y,
  createUser,
  eventually,
  folderButton,
  listShows,
  openTab,
  pickMailbox,
  row,
  rows,
  screenshot,
  send,
  skip,
  startServer,
  stored,
  subjects,
  textBecomes,
  unreadBadge,
} from './browser-helper.js';

before(buildWeb);

/** Counts the page's listing requests (GET /users/{id}/messages with or without a query). */
function countListings(page: Page): { count: number } {
  const seen = { count: 0 };
  page.on('request', (request) => {
    if (request.method() === 'GET' && /\/users\/\d+\/messages(\?|$)/.test(new URL(request.url()).pathname + new URL(request.url()).search)) seen.count += 1;
  });
  return seen;
}

test('live: new mail appears in the open folder without a reload; counts, rows and the tab title follow what another tab does; the stream comes back after it ends', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  const old = await send(app, ada.id, { to_email: bob.email, subject: 'Old news', message: 'From yesterday.' });
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 1);
  const listings = countListings(page);

  const fresh = await send(app, ada.id, { to_email: bob.email, subject: 'Fresh news', message: 'Just now.' });
  await eventually('the new message at the top', async () => JSON.stringify(await subjects(page)) === JSON.stringify(['Fresh news', 'Old news']));
  await textBecomes(unreadBadge(page, 'inbox'), '2');
  assert.equal(await page.title(), 'Inbox (2)');
  await checkA11y(page, 'live: new mail arrived');

  // Another tab (another device) reads one message and trashes the other.
  const other = await openTab(t);
  await pickMailbox(other.page, baseUrl, bob.email, 2);
  await row(other.page, 'Fresh news').locator('button.open').click();
  await eventually('read elsewhere, read here', async () => (await row(page, 'Fresh news').getAttribute('class')) === 'row');
  await textBecomes(unreadBadge(page, 'inbox'), '1');
  assert.equal(await page.title(), 'Inbox (1)');
  await other.page.keyboard.press('Escape');
  await row(other.page, 'Old news').locator('input[type="checkbox"]').check();
  await other.page.getByRole('button', { name: 'Move to Trash' }).click();
  await eventually('trashed elsewhere, gone here', async () => JSON.stringify(await subjects(page)) === JSON.stringify(['Fresh news']));
  await textBecomes(unreadBadge(page, 'trash'), '1');
  await textBecomes(unreadBadge(page, 'inbox'), '');
  assert.equal(await page.title(), 'Inbox');
  assert.equal(listings.count, 0, 'rows updated in place from the changes feed, never by reloading the list');
  assert.deepEqual(await stored(app, [old.id, fresh.id]), [
    { id: old.id, folder: 'trash', unread: 'Y' },
    { id: fresh.id, folder: 'inbox', unread: 'N' },
  ]);

  // The connections drop (a proxy restart, say): the page reconnects by itself and hears the next change.
  app.server.closeAllConnections();
  await send(app, ada.id, { to_email: bob.email, subject: 'After the break', message: 'Still here?' });
  await eventually('new mail after a reconnection', async () => (await subjects(page))[0] === 'After the break', 8_000);
  assert.deepEqual(problems, []);
  assert.deepEqual(other.problems, []);
});

test('live: scrolled down the list, new mail waits behind "2 new messages" instead of moving the rows being read', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  for (let index = 0; index < 25; index += 1) await send(app, ada.id, { to_email: bob.email, subject: `#${index}`, message: 'x' });
  const { page, problems } = await openTab(t, { viewport: { width: 1280, height: 600 } });
  await pickMailbox(page, baseUrl, bob.email, 25);
  await page.locator('#list-pane').evaluate((pane) => pane.scrollTo({ top: 600 }));
  await send(app, ada.id, { to_email: bob.email, subject: 'New one', message: 'x' });
  await send(app, ada.id, { to_email: bob.email, subject: 'New two', message: 'x' });
  await textBecomes(page.locator('#new-mail'), '2 new messages', 8_000);
  assert.equal(await rows(page).count(), 25, 'the rows being read have not moved');
  assert.ok((await page.locator('#list-pane').evaluate((pane) => pane.scrollTop)) >= 500);
  await textBecomes(unreadBadge(page, 'inbox'), '27');
  await checkA11y(page, 'live: new mail waiting');
  await screenshot(page, 'desktop-new-mail-waiting');
  await page.locator('#new-mail').click();
  await listShows(page, 'inbox', 27);
  assert.deepEqual((await subjects(page)).slice(0, 3), ['New two', 'New one', '#24']);
  assert.equal(await page.evaluate(() => document.activeElement?.closest('li')?.querySelector('.subject')?.textContent), 'New two');
  assert.equal(await page.locator('#new-mail').isVisible(), false);
  assert.deepEqual(problems, []);
});

test('undo: trash, spam and read changes are undone message by message, each back where it came from; rows stay in place and loaded pages stay loaded', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl, redis } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  const ids: number[] = [];
  for (let index = 0; index < 30; index += 1) ids.push((await send(app, ada.id, { to_email: bob.email, subject: `#${index}`, message: 'x' })).id);
  const [first, second] = ids as [number, number];
  await batch(app, { message_id_list: [ids[6]], read: true });
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 25);
  await page.getByRole('button', { name: 'Load more' }).click();
  await listShows(page, 'inbox', 30);
  const listings = countListings(page);
  const order = await subjects(page);

  // Trash two, one from each page; Undo brings both back to their places.
  await row(page, '#27').locator('input[type="checkbox"]').check();
  await row(page, '#1').locator('input[type="checkbox"]').check();
  await page.getByRole('button', { name: 'Move to Trash' }).click();
  await textBecomes(page.locator('#toast-text'), '2 messages moved to Trash');
  await listShows(page, 'inbox', 28);
  await checkA11y(page, 'undo offered');
  await screenshot(page, 'desktop-undo');
  await page.getByRole('button', { name: 'Undo' }).click();
  await textBecomes(page.locator('#toast-text'), 'Undone: 2 messages are back as they were.');
  await listShows(page, 'inbox', 30);
  assert.deepEqual(await subjects(page), order, 'every row back in its place');
  assert.deepEqual((await stored(app, [ids[1]!, ids[27]!])).map((message) => message.folder), ['inbox', 'inbox']);

  // Read: only the message the action changed becomes unread again.
  await row(page, '#5').locator('input[type="checkbox"]').check();
  await row(page, '#6').locator('input[type="checkbox"]').check();
  await page.getByRole('button', { name: 'Mark read' }).click();
  await textBecomes(page.locator('#toast-text'), '2 messages marked read');
  await page.getByRole('button', { name: 'Undo' }).click();
  await textBecomes(page.locator('#toast-text'), 'Undone: 2 messages are back as they were.');
  assert.deepEqual((await stored(app, [ids[5]!, ids[6]!])).map((message) => message.unread), ['Y', 'N']);
  await eventually('the rows say so', async () => (await row(page, '#5').getAttribute('class'))?.includes('unread') === true);

  // Spam, undone: the message is back in the Inbox and the sender's report withdrawn.
  await row(page, '#5').locator('input[type="checkbox"]').uncheck();
  await row(page, '#6').locator('input[type="checkbox"]').uncheck();
  await row(page, '#0').locator('input[type="checkbox"]').check();
  await page.getByRole('button', { name: 'Report spam' }).click();
  await textBecomes(page.locator('#toast-text'), 'Reported as spam');
  assert.equal(await redis.get(`msg:spam-reports:uid:${ada.id}`), '1');
  await page.keyboard.press('z');
  await textBecomes(page.locator('#toast-text'), 'Undone.');
  assert.ok([null, '0'].includes(await redis.get(`msg:spam-reports:uid:${ada.id}`)), 'report withdrawn');
  assert.deepEqual(await stored(app, [first]), [{ id: first, folder: 'inbox', unread: 'Y' }]);
  assert.equal(listings.count, 0, 'no list was reloaded by an action or an undo');

  // From Trash, reported as spam, undone: back to Trash (not to the Inbox), report withdrawn.
  await batch(app, { message_id_list: [second], trash: true });
  await folderButton(page, 'trash').click();
  await listShows(page, 'trash', 1);
  await row(page, '#1').locator('input[type="checkbox"]').check();
  await page.getByRole('button', { name: 'Report spam' }).click();
  await listShows(page, 'trash', 0);
  // Undo after moving to another folder still knows where each message was.
  await folderButton(page, 'spam').click();
  await listShows(page, 'spam', 1);
  await page.getByRole('button', { name: 'Undo' }).click();
  await listShows(page, 'spam', 0);
  assert.deepEqual(await stored(app, [second]), [{ id: second, folder: 'trash', unread: 'Y' }]);
  assert.ok([null, '0'].includes(await redis.get(`msg:spam-reports:uid:${ada.id}`)));
  assert.deepEqual(problems, []);
});

test('never: an answer arriving late for a folder no longer shown is dropped; switching empties the list and says it is loading', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  for (const subject of ['Inbox one', 'Inbox two', 'Inbox three']) await send(app, ada.id, { to_email: bob.email, subject, message: 'x' });
  const spam = await send(app, ada.id, { to_email: bob.email, subject: 'Spam one', message: 'x' });
  await batch(app, { message_id_list: [spam.id], spam: true });
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 3);

  // The Inbox's answer is held back; the person moves on to Spam before it comes.
  let releaseInbox: () => void = () => {};
  const inboxHeld = new Promise<void>((resolve) => (releaseInbox = resolve));
  let releaseSpam: () => void = () => {};
  const spamHeld = new Promise<void>((resolve) => (releaseSpam = resolve));
  await page.route(/\/users\/\d+\/messages\?folder=(inbox|spam)/, async (route) => {
    if (route.request().url().includes('folder=inbox')) await inboxHeld;
    else await spamHeld;
    await route.continue();
  });
  await folderButton(page, 'trash').click();
  await folderButton(page, 'inbox').click();
  await folderButton(page, 'spam').click();
  // At once: the Spam tab, no rows, and a loading state.
  await textBecomes(page.locator('#folder-title'), 'Spam');
  assert.equal(await rows(page).count(), 0);
  await textBecomes(page.locator('#list-state-text'), 'Loading Spam…');
  assert.equal(await page.locator('#messages').getAttribute('aria-busy'), 'true');
  await checkA11y(page, 'folder loading');
  await screenshot(page, 'desktop-loading');
  releaseSpam();
  await listShows(page, 'spam', 1);
  releaseInbox();
  // The late Inbox answer lands now, and must change nothing.
  await page.waitForTimeout(300);
  await page.unroute(/\/users\/\d+\/messages\?folder=(inbox|spam)/);
  assert.deepEqual(await subjects(page), ['Spam one']);
  await textBecomes(page.locator('#folder-title'), 'Spam');
  assert.equal(await page.title(), 'Spam · Inbox (3)');
  assert.deepEqual(problems, []);
});

test('never: after a failed load no rows of the folder before remain to act on, and the error banner goes once the server is back', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  await send(app, ada.id, { to_email: bob.email, subject: 'Inbox one', message: 'x' });
  const spam = await send(app, ada.id, { to_email: bob.email, subject: 'Spam one', message: 'x' });
  await batch(app, { message_id_list: [spam.id], spam: true });
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 1);
  await row(page, 'Inbox one').locator('input[type="checkbox"]').check();

  const down = /\/users\/\d+\/messages\?folder=spam/;
  await page.route(down, (route) => route.abort('connectionrefused'));
  await folderButton(page, 'spam').click();
  await textBecomes(page.locator('#list-state-text'), 'Spam could not be loaded. Cannot reach the server: check your connection and try again.');
  await textBecomes(page.locator('#error'), 'Cannot reach the server: check your connection and try again.');
  assert.equal(await rows(page).count(), 0, 'the Inbox rows are gone');
  assert.equal(await page.getByLabel('Select all').isDisabled(), true);
  for (const button of await page.locator('#actions button:visible').all()) assert.equal(await button.isDisabled(), true);
  assert.equal(await page.locator('#load-more').isVisible(), false);
  await checkA11y(page, 'failed load');
  await screenshot(page, 'desktop-failed-load');

  // The server is back: "Try again" loads, the banner goes, the focus lands on the first row.
  await page.unroute(down);
  await page.getByRole('button', { name: 'Try again' }).click();
  await listShows(page, 'spam', 1);
  assert.equal(await page.locator('#error').isVisible(), false);
  assert.equal(await page.locator('#list-state').isVisible(), false);
  assert.equal(await page.evaluate(() => document.activeElement?.closest('li')?.querySelector('.subject')?.textContent), 'Spam one');

  // Another outage, and the person does nothing: the banner goes by itself when the server answers again.
  await page.route(/\/users\/\d+\/messages\?folder=trash/, (route) => route.abort('connectionrefused'));
  await folderButton(page, 'trash').click();
  await page.locator('#error').waitFor();
  await page.unroute(/\/users\/\d+\/messages\?folder=trash/);
  await send(app, ada.id, { to_email: bob.email, subject: 'Anyone there?', message: 'x' });
  await page.locator('#error').waitFor({ state: 'hidden', timeout: 8_000 });
  assert.deepEqual(problems, []);
});

test('never: actions that make no sense in the folder being loaded are offered (no Restore under Inbox); the reader offers what fits the open message', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  await send(app, ada.id, { to_email: bob.email, subject: 'In the inbox', message: 'x' });
  const trashed = await send(app, ada.id, { to_email: bob.email, subject: 'In the trash', message: 'x' });
  await batch(app, { message_id_list: [trashed.id], trash: true });
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 1);
  const offered = () => page.locator('#actions button:visible').allTextContents();
  const expected: Record<string, string[]> = {
    inbox: ['Mark read', 'Mark unread', 'Move to Trash', 'Report spam'],
    spam: ['Mark read', 'Mark unread', 'Move to Trash', 'Not spam'],
    trash: ['Mark read', 'Mark unread', 'Restore', 'Report spam'],
  };
  assert.deepEqual(await offered(), expected.inbox);

  const held: (() => void)[] = [];
  await page.route(/\/users\/\d+\/messages\?folder=/, async (route) => {
    await new Promise<void>((resolve) => held.push(resolve));
    await route.continue();
  });
  for (const folder of ['trash', 'spam', 'inbox'] as const) {
    await folderButton(page, folder).click();
    // While it loads: that folder's actions only, none usable.
    await textBecomes(page.locator('#list-state-text'), /^Loading /);
    assert.deepEqual(await offered(), expected[folder], `${folder} while loading`);
    for (const button of await page.locator('#actions button:visible').all()) assert.equal(await button.isDisabled(), true);
    await eventually('the listing is held', () => held.length > 0);
    held.splice(0).forEach((release) => release());
    await page.locator('#messages[aria-busy="false"]').waitFor({ state: 'attached' });
    assert.deepEqual(await offered(), expected[folder], `${folder} loaded`);
  }
  await page.unroute(/\/users\/\d+\/messages\?folder=/);
  await folderButton(page, 'sent').click();
  await listShows(page, 'sent', 0);
  assert.equal(await page.locator('#toolbar').isVisible(), false, 'no actions on sent mail');

  await folderButton(page, 'trash').click();
  await listShows(page, 'trash', 1);
  await row(page, 'In the trash').locator('button.open').click();
  await textBecomes(page.locator('#reader-title'), 'In the trash');
  assert.deepEqual(await page.locator('.reader-bar button:visible').allTextContents(), ['Back to the list', 'Reply', 'Mark unread', 'Restore', 'Report spam']);
  await page.locator('.reader-bar').getByRole('button', { name: 'Restore' }).click();
  await listShows(page, 'trash', 0);
  assert.equal(await page.locator('#reader-content').isVisible(), false, 'a message that left the folder is put away');
  assert.deepEqual(await stored(app, [trashed.id]), [{ id: trashed.id, folder: 'inbox', unread: 'N' }]);
  assert.deepEqual(problems, []);
});
