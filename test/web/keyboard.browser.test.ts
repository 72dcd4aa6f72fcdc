/**
 * The web inbox in Chromium: the keyboard (every shortcut, and the focus staying where the person is),
 * drafts that are never lost and never shown to the wrong person, and how it looks beyond the default:
 * right-to-left text, the dark theme, and a phone's action bar. axe-core runs in every state.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  buildWeb,
  checkA11y,
  createUser,
  DESKTOP,
  eventually,
  listShows,
  openTab,
  PHONE,
  pickMailbox,
  requiredAuth,
  row,
  screenshot,
  send,
  signIn,
  skip,
  startServer,
  stored,
  subjects,
  textBecomes,
} from './browser-helper.js';

before(buildWeb);

/** The subject of the row that has the focus (undefined when the focus is elsewhere). */
const focusedRow = (page: Page) => page.evaluate(() => document.activeElement?.closest('#messages li')?.querySelector('.subject')?.textContent ?? undefined);
const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id);
const sessionKeys = (page: Page) => page.evaluate(() => Object.keys(sessionStorage).sort());

test('keyboard: j/k move, x selects, o opens, u or Escape go back, e and # trash, ! reports spam, z undoes, c composes, / searches, ? lists them; the focus stays where the person is', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  const ids: number[] = [];
  for (let index = 0; index < 5; index += 1) ids.push((await send(app, ada.id, { to_email: bob.email, subject: `#${index}`, message: `Body ${index}` })).id);
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 5);
  await page.locator('#main').focus();

  await page.keyboard.press('j');
  assert.equal(await focusedRow(page), '#4', 'j from nowhere: the first row');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  assert.equal(await focusedRow(page), '#2');
  await page.keyboard.press('k');
  assert.equal(await focusedRow(page), '#3');
  await page.keyboard.press('x');
  assert.equal(await row(page, '#3').locator('input[type="checkbox"]').isChecked(), true);
  await textBecomes(page.locator('#selection'), '1 selected');
  assert.equal(await focusedRow(page), '#3', 'x leaves the focus on the row');
  await page.keyboard.press('x');
  await textBecomes(page.locator('#selection'), 'Select all');

  await page.keyboard.press('o');
  await textBecomes(page.locator('#reader-title'), '#3');
  assert.equal(await focusedId(page), 'reader-title');
  await page.keyboard.press('j');
  // j with a message open opens the next one.
  await textBecomes(page.locator('#reader-title'), '#2');
  await page.keyboard.press('u');
  assert.equal(await page.locator('#reader-content').isVisible(), false);
  assert.equal(await focusedRow(page), '#2', 'back on the row that was open');

  await page.keyboard.press('e');
  await textBecomes(page.locator('#toast-text'), 'Moved to Trash');
  assert.deepEqual(await subjects(page), ['#4', '#3', '#1', '#0']);
  assert.equal(await focusedRow(page), '#1', 'the focus moves to the row that took its place');
  await page.keyboard.press('z');
  await textBecomes(page.locator('#toast-text'), 'Undone.');
  assert.deepEqual(await subjects(page), ['#4', '#3', '#2', '#1', '#0']);
  assert.equal(await focusedRow(page), '#2', 'after an undo, on the message that came back');
  await page.keyboard.press('#');
  await textBecomes(page.locator('#toast-text'), 'Moved to Trash');
  assert.equal(await focusedRow(page), '#1');
  await page.keyboard.press('j');
  await page.keyboard.press('!');
  await textBecomes(page.locator('#toast-text'), 'Reported as spam');
  assert.equal(await focusedRow(page), '#1', 'the last row gone: the one before');
  assert.deepEqual(await stored(app, [ids[0]!, ids[2]!]), [
    { id: ids[0], folder: 'spam', unread: 'Y' },
    { id: ids[2], folder: 'trash', unread: 'N' },
  ]);

  // Enter opens the row the keyboard is on, Escape goes back.
  await page.keyboard.press('Enter');
  await textBecomes(page.locator('#reader-title'), '#1');
  await page.keyboard.press('Escape');
  assert.equal(await focusedRow(page), '#1');

  await page.keyboard.press('c');
  assert.equal(await focusedId(page), 'compose-to');
  await page.keyboard.type('jjjj');
  assert.equal(await page.locator('#compose-to').inputValue(), 'jjjj', 'typed into a field, keys are text');
  await page.locator('#compose-to').fill('');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#compose').isVisible(), false);
  assert.equal(await focusedRow(page), '#1', 'closing compose returns where it was opened');

  await page.keyboard.press('/');
  assert.equal(await focusedId(page), 'search-input');
  await page.keyboard.type('k');
  assert.equal(await page.locator('#search-input').inputValue(), 'k');
  await page.keyboard.press('Escape');
  await listShows(page, 'inbox', 3);

  await page.locator('#main').focus();
  await page.keyboard.press('?');
  const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await dialog.waitFor();
  assert.equal(await dialog.locator('tbody tr').count(), 11);
  await checkA11y(page, 'keyboard shortcuts');
  await screenshot(page, 'desktop-shortcuts');
  await page.keyboard.press('j');
  assert.equal(await dialog.isVisible(), true, 'keys belong to the dialog while it is open');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await focusedId(page), 'main', 'the focus returns where it was');
  assert.deepEqual(problems, []);
});

test('draft: a failed send keeps every word in the form and in the tab, a reload brings it back, and a send that works clears it', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 0);
  await page.getByRole('button', { name: 'Compose' }).click();
  await page.locator('#compose-to').fill(ada.email);
  await page.locator('#compose-subject').fill('Plans');
  await page.locator('#compose-body').fill('A long message\nthat must not be lost.');

  const sending = /\/users\/\d+\/messages$/;
  await page.route(sending, (route) => (route.request().method() === 'POST' ? route.abort('connectionrefused') : route.continue()));
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await textBecomes(page.locator('#compose-error'), 'Not sent: Cannot reach the server: check your connection and try again.');
  assert.deepEqual(
    [await page.locator('#compose-to').inputValue(), await page.locator('#compose-subject').inputValue(), await page.locator('#compose-body').inputValue()],
    [ada.email, 'Plans', 'A long message\nthat must not be lost.'],
  );
  assert.equal(await focusedId(page), 'compose-send', 'the focus stays on Send');
  await checkA11y(page, 'failed send');
  await screenshot(page, 'desktop-failed-send');
  await page.unroute(sending);

  // A reload (or a crash of the tab's page) loses nothing: the draft is in the tab's storage.
  await page.reload();
  await textBecomes(page.locator('#who'), `Mailbox of ${bob.email}`);
  await textBecomes(page.locator('#status'), 'An unsent draft is waiting: Compose opens it.');
  assert.equal(await page.getByRole('button', { name: 'Compose, an unsent draft waits' }).isVisible(), true);
  await page.keyboard.press('c');
  assert.equal(await page.locator('#compose-body').inputValue(), 'A long message\nthat must not be lost.');

  // Unknown address: the API's words, the draft still there.
  await page.locator('#compose-to').fill('nobody@example.com');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await textBecomes(page.locator('#compose-error'), 'Not sent: User not found');
  await page.locator('#compose-to').fill(ada.email);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await textBecomes(page.locator('#status'), `Message sent to ${ada.email}.`);
  assert.deepEqual(await sessionKeys(page), ['inbox.session'], 'sent: the draft is gone');
  assert.equal(await page.locator('#draft-mark').isVisible(), false);
  assert.deepEqual(problems, []);
});

test('draft: never shown to the next person who signs in on the same tab', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t, requiredAuth());
  await createUser(app, 'ada@example.com', 'ada-password');
  await createUser(app, 'bob@example.com', 'bob-password');
  const { page, problems } = await openTab(t);
  await page.goto(`${baseUrl}/inbox/`);
  await signIn(page, 'ada@example.com', 'ada-password', 0);
  await page.keyboard.press('c');
  await page.locator('#compose-to').fill('bob@example.com');
  await page.locator('#compose-subject').fill('Surprise party');
  await page.locator('#compose-body').fill('Do not tell Carol.');
  await page.getByRole('button', { name: 'Close, keep draft' }).click();
  await textBecomes(page.locator('#status'), 'Draft kept: Compose opens it again.');
  assert.equal((await sessionKeys(page)).filter((key) => key.startsWith('inbox.draft.')).length, 1);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await textBecomes(page.locator('#status'), 'Signed out.');
  assert.deepEqual(await sessionKeys(page), [], 'signing out leaves nothing in the tab');
  await signIn(page, 'bob@example.com', 'bob-password', 0);
  assert.equal(await page.locator('#draft-mark').isVisible(), false);
  await page.keyboard.press('c');
  for (const field of ['#compose-to', '#compose-subject', '#compose-body']) assert.equal(await page.locator(field).inputValue(), '', field);
  assert.equal(await page.getByText('Do not tell Carol.').count(), 0);
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'ada@example.com', 'ada-password', 0);
  assert.equal(await page.locator('#draft-mark').isVisible(), false, 'gone for good at sign-out');
  assert.deepEqual(problems, []);
});

test('draft: Escape keeps it, Compose reopens it, and replying over it asks first (keep or discard)', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  await send(app, ada.id, { to_email: bob.email, subject: 'Question', message: 'Are you coming?' });
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 1);
  await page.getByRole('button', { name: 'Compose' }).click();
  await page.locator('#compose-to').fill(ada.email);
  await page.locator('#compose-body').fill('Half-written thought');
  await page.keyboard.press('Escape');
  await textBecomes(page.locator('#status'), 'Draft kept: Compose opens it again.');
  assert.equal(await focusedId(page), 'compose-open');
  await page.keyboard.press('c');
  assert.equal(await page.locator('#compose-body').inputValue(), 'Half-written thought');
  // A second Compose while it is open keeps it too.
  await page.getByRole('button', { name: 'Compose' }).click();
  assert.equal(await page.locator('#compose-body').inputValue(), 'Half-written thought');

  await row(page, 'Question').locator('button.open').click();
  await page.getByRole('button', { name: 'Reply', exact: true }).click();
  const ask = page.getByRole('dialog', { name: 'Unsent draft' });
  await ask.waitFor();
  await textBecomes(ask.locator('#confirm-text'), `You have not sent a message to ${ada.email} yet. Keep working on it, or discard it?`);
  await checkA11y(page, 'asked about a draft');
  await screenshot(page, 'desktop-draft-question');
  await page.keyboard.press('Escape');
  await ask.waitFor({ state: 'hidden' });
  assert.equal(await page.locator('#compose-body').inputValue(), 'Half-written thought', 'Escape keeps it');
  assert.equal(await page.locator('#compose-title').textContent(), 'New message');

  await page.getByRole('button', { name: 'Reply', exact: true }).click();
  await ask.getByRole('button', { name: 'Discard it' }).click();
  await textBecomes(page.locator('#compose-title'), 'Reply');
  assert.equal(await page.locator('#compose-body').inputValue(), '');
  await page.locator('#compose-body').fill('Yes!');
  await page.getByRole('button', { name: 'Discard', exact: true }).click();
  await textBecomes(page.locator('#status'), 'Draft discarded.');
  assert.deepEqual(await sessionKeys(page), ['inbox.session']);
  assert.deepEqual(problems, []);
});

test('right-to-left and mixed scripts show from their start; the dark theme follows the system; on a phone the actions appear with a selection, at the bottom of the screen', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  await send(app, ada.id, { to_email: bob.email, subject: 'Lunch on Friday?', message: 'The usual place at noon?' });
  await send(app, ada.id, { to_email: bob.email, subject: 'שלום, מה נשמע?', message: 'טקסט בעברית עם English באמצע.' });
  await send(app, ada.id, { to_email: bob.email, subject: 'مرحبا بالعالم', message: 'نص عربي 123 مع كلمة English.' });
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 3);
  const directions = await page.locator('#messages > li .subject').evaluateAll((items) => items.map((item) => getComputedStyle(item).direction));
  assert.deepEqual(directions, ['rtl', 'rtl', 'ltr']);
  const userText = await page.locator('#messages .who, #messages .subject, #messages .preview').evaluateAll((items) => items.every((item) => item.getAttribute('dir') === 'auto'));
  assert.equal(userText, true, 'dir="auto" on every piece of user text in the rows');
  await row(page, 'שלום, מה נשמע?').locator('button.open').click();
  await textBecomes(page.locator('#reader-title'), 'שלום, מה נשמע?');
  assert.equal(await page.locator('#reader-title').evaluate((title) => getComputedStyle(title).direction), 'rtl');
  assert.equal(await page.locator('#thread .body').evaluate((body) => [body.getAttribute('dir'), getComputedStyle(body).direction].join()), 'auto,rtl');
  await checkA11y(page, 'right-to-left message open');
  await screenshot(page, 'desktop-rtl');

  // Dark, as the system asks.
  const dark = await openTab(t, { colorScheme: 'dark' });
  await pickMailbox(dark.page, baseUrl, bob.email, 3);
  const background = await dark.page.evaluate(() => getComputedStyle(document.querySelector('#list-pane')!).backgroundColor);
  const [red, green, blue] = (background.match(/\d+/g) ?? []).map(Number);
  assert.ok((red ?? 255) < 60 && (green ?? 255) < 60 && (blue ?? 255) < 60, `a dark surface, got ${background}`);
  await row(dark.page, 'Lunch on Friday?').locator('button.open').click();
  await textBecomes(dark.page.locator('#reader-title'), 'Lunch on Friday?');
  await checkA11y(dark.page, 'dark theme, message open');
  await screenshot(dark.page, 'desktop-dark-reader');
  await dark.page.keyboard.press('Escape');
  await dark.page.setViewportSize(PHONE);
  await checkA11y(dark.page, 'dark theme, phone');
  await screenshot(dark.page, 'phone-dark-inbox');

  // A phone: no action bar until something is selected; then at the bottom, in reach, big enough to tap.
  await page.keyboard.press('Escape');
  await page.setViewportSize(PHONE);
  assert.equal(await page.locator('#actions').isVisible(), false);
  await row(page, 'Lunch on Friday?').locator('input[type="checkbox"]').check();
  await page.locator('#actions').waitFor();
  const bar = await page.locator('#actions').boundingBox();
  assert.ok(bar && Math.abs(bar.y + bar.height - PHONE.height) < 1 && bar.x === 0 && bar.width === PHONE.width, `at the bottom: ${JSON.stringify(bar)}`);
  for (const button of await page.locator('#actions button:visible').all()) assert.ok(((await button.boundingBox())?.height ?? 0) >= 44);
  // It stays there when the list scrolls.
  await page.mouse.wheel(0, 400);
  const after = await page.locator('#actions').boundingBox();
  assert.equal(after?.y, bar?.y);
  await checkA11y(page, 'phone with a selection');
  await screenshot(page, 'phone-selection');
  await page.getByRole('button', { name: 'Move to Trash' }).click();
  await textBecomes(page.locator('#toast-text'), 'Moved to Trash');
  await eventually('the bar goes with the selection', async () => !(await page.locator('#actions').isVisible()));
  const toast = await page.locator('#toast').boundingBox();
  assert.ok(toast && toast.y + toast.height <= PHONE.height, 'the toast is on screen');
  await screenshot(page, 'phone-undo');
  await page.setViewportSize(DESKTOP);
  assert.deepEqual(problems, []);
  assert.deepEqual(dark.problems, []);
});
