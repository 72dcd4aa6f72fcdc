/**
 * The web inbox in Debian's Chromium, one story per ability (issue 16, "What a person can do"): read,
 * reply, compose with suggestions, Sent and search, dates, sign-up, the mailbox picker when
 * authentication is off, paging and batches. axe-core runs in every state; screenshots of the main
 * states at desktop and phone sizes go to test-output/ (UPDATE_DOCS_SCREENSHOT=1 also writes the
 * README's docs/inbox.png). live.browser.test.ts and keyboard.browser.test.ts hold the other stories.
 */
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { formatWhen } from '../../web/src/dates.js';
import {
  batch,
  checkA11y,
  createUser,
  DESKTOP,
  eventually,
  folderButton,
  listShows,
  openTab,
  PHONE,
  pickMailbox,
  projectRoot,
  requiredAuth,
  row,
  rows,
  screenshot,
  SCREENSHOTS,
  send,
  signIn,
  skip,
  startServer,
  stored,
  subjects,
  textBecomes,
  unreadBadge,
  buildWeb,
} from './browser-helper.js';

before(buildWeb);

test('read: a message opens whole beside the list (click, Enter or o) with sender, recipient, date and its conversation; opening marks it read; on a phone it takes the screen', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  const lunch = await send(app, ada.id, { to_email: bob.email, subject: 'Lunch on Friday?', message: 'The usual place at noon?\n\nAda' });
  await send(app, bob.id, { in_reply_to: lunch.id, message: 'Yes, noon works. Shall I book?' });
  const great = await send(app, ada.id, { in_reply_to: lunch.id, message: 'Great! Please do.\nSee you there.' });
  await send(app, ada.id, { to_email: bob.email, subject: 'Quarterly report', message: 'Numbers attached below.\n\nRevenue up 4 %.' });
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 3);
  await textBecomes(unreadBadge(page, 'inbox'), '3');
  assert.equal(await page.title(), 'Inbox (3)');
  await checkA11y(page, 'inbox list (desktop)');
  await screenshot(page, 'desktop-inbox');

  // Click.
  await row(page, 'Re: Lunch on Friday?').locator('button.open').click();
  await textBecomes(page.locator('#reader-title'), 'Re: Lunch on Friday?');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'reader-title', 'focus goes to what was opened');
  await eventually('the conversation of three', async () => (await page.locator('#thread > li').count()) === 3);
  await textBecomes(page.locator('#reader-thread-info'), 'Conversation of 3 messages');
  const open = page.locator('#thread > li.is-open');
  assert.equal(await open.getAttribute('data-id'), String(great.id));
  assert.deepEqual(await open.locator('.line').allTextContents(), ['From ada@example.com', 'To bob@example.com']);
  const time = open.locator('time');
  assert.match((await time.getAttribute('datetime')) ?? '', /^\d{4}-\d\d-\d\dT/);
  assert.match((await time.textContent()) ?? '', /\d{4} at \d\d:\d\d:\d\d UTC$/);
  assert.equal(await open.locator('.body').textContent(), 'Great! Please do.\nSee you there.');
  await textBecomes(unreadBadge(page, 'inbox'), '2');
  assert.equal(await page.title(), 'Inbox (2)');
  assert.equal(await row(page, 'Re: Lunch on Friday?').getAttribute('class'), 'row current');
  assert.deepEqual(await stored(app, [great.id]), [{ id: great.id, folder: 'inbox', unread: 'N' }]);
  await checkA11y(page, 'message open (desktop)');
  await screenshot(page, 'desktop-reader');

  // Escape goes back to the row; Enter on another row opens it.
  await page.keyboard.press('Escape');
  await page.locator('#reader-empty').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), `open-${great.id}`, 'focus is back on the row that was open');
  await row(page, 'Quarterly report').locator('button.open').focus();
  await page.keyboard.press('Enter');
  await textBecomes(page.locator('#reader-title'), 'Quarterly report');
  await textBecomes(unreadBadge(page, 'inbox'), '1');
  // `o` opens the row the keyboard is on.
  await page.keyboard.press('Escape');
  await row(page, 'Lunch on Friday?').last().locator('button.open').focus();
  await page.keyboard.press('o');
  await textBecomes(page.locator('#reader-title'), 'Lunch on Friday?');
  await textBecomes(unreadBadge(page, 'inbox'), '');
  assert.equal(await page.title(), 'Inbox');

  // A phone: the message takes the whole screen, and Back returns to the list.
  await page.setViewportSize(PHONE);
  const box = await page.locator('#reader').boundingBox();
  assert.deepEqual(box && [box.x, box.y, box.width, box.height], [0, 0, PHONE.width, PHONE.height]);
  assert.equal(await page.locator('#reader-back').isVisible(), true);
  await checkA11y(page, 'message open (phone)');
  await screenshot(page, 'phone-reader');
  await page.locator('#reader-back').click();
  await page.locator('#messages').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#reader-content').isVisible(), false);
  await checkA11y(page, 'inbox list (phone)');
  await screenshot(page, 'phone-inbox');
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), 0, 'no horizontal scrolling');
  assert.deepEqual(problems, []);
});

test('reply: from the open message, without a recipient to type; the reply joins the conversation and lands in Sent', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  const lunch = await send(app, ada.id, { to_email: bob.email, subject: 'Lunch on Friday?', message: 'The usual place at noon?' });
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 1);
  await row(page, 'Lunch on Friday?').locator('button.open').click();
  await page.getByRole('button', { name: 'Reply', exact: true }).click();
  await textBecomes(page.locator('#compose-title'), 'Reply');
  await textBecomes(page.locator('#compose-reply-to'), 'To ada@example.com · Re: Lunch on Friday?');
  assert.equal(await page.locator('#compose-to').isVisible(), false, 'no recipient to type');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'compose-body');
  await page.keyboard.type('Yes, see you at noon.');
  await checkA11y(page, 'reply (desktop)');
  await screenshot(page, 'desktop-reply');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await textBecomes(page.locator('#status'), 'Message sent to ada@example.com.');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'reader-reply', 'focus is back where the reply started');
  await eventually('the reply in the conversation', async () => (await page.locator('#thread > li').count()) === 2);

  const adaInbox = await app.inject({ method: 'GET', url: `/users/${ada.id}/messages?folder=inbox` });
  const [reply] = adaInbox.json<{ messages: { subject: string; message: string; in_reply_to: number; thread_id: number }[] }>().messages;
  assert.deepEqual(reply && [reply.subject, reply.message, reply.in_reply_to, reply.thread_id], ['Re: Lunch on Friday?', 'Yes, see you at noon.', lunch.id, lunch.id]);

  await folderButton(page, 'sent').click();
  await listShows(page, 'sent', 1);
  assert.deepEqual(await page.locator('#messages > li .who').allTextContents(), ['To: ada@example.com']);
  assert.equal(await page.locator('#messages input[type="checkbox"]').count(), 0, 'sent mail has no actions: trashing it would delete it for good');
  assert.equal(await page.locator('#toolbar').isVisible(), false);
  await checkA11y(page, 'sent folder');
  assert.deepEqual(problems, []);
});

test('compose: the recipient is typed by address, with a few matching suggestions (never a list of every user)', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  const carol = await createUser(app, 'carol.king@example.com');
  for (let index = 0; index < 10; index += 1) await createUser(app, `member${index}@example.com`);
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 0);
  await page.getByRole('button', { name: 'Compose' }).click();
  assert.equal(await page.locator('#compose select').count(), 0, 'no drop-down of users');
  const to = page.getByRole('combobox', { name: 'To' });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'compose-to');
  assert.equal(await page.locator('#compose-suggestions').isVisible(), false, 'nothing suggested before typing');
  await to.pressSequentially('ki');
  await page.locator('#compose-suggestions').waitFor();
  assert.deepEqual(await page.getByRole('option').allTextContents(), ['carol.king@example.com']);
  await to.fill('');
  await to.pressSequentially('m');
  await eventually('six suggestions at most', async () => (await page.getByRole('option').count()) === 6);
  assert.equal(await to.getAttribute('aria-expanded'), 'true');
  await checkA11y(page, 'compose with suggestions');
  await screenshot(page, 'desktop-compose-suggestions');
  await to.fill('');
  await to.pressSequentially('car');
  await page.keyboard.press('ArrowDown');
  assert.equal(await to.getAttribute('aria-activedescendant'), 'suggestion-0');
  await page.keyboard.press('Enter');
  assert.equal(await to.inputValue(), carol.email);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'compose-subject');

  // Not an address: said in plain words, the focus on the field to fix.
  await to.fill('carol');
  await page.getByLabel('Subject', { exact: true }).fill('Minutes');
  await page.getByLabel('Message', { exact: true }).fill('Attached, as promised.');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await textBecomes(page.locator('#compose-error'), '“carol” is not an email address.');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'compose-to');
  await to.fill('Carol.King@Example.com');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await textBecomes(page.locator('#status'), `Message sent to ${carol.email}.`);
  assert.equal(await page.locator('#compose').isVisible(), false);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'compose-open');
  const received = await app.db.selectFrom('messages').select(['subject', 'message', 'from_userid']).where('to_userid', '=', carol.id).execute();
  assert.deepEqual(received, [{ subject: 'Minutes', message: 'Attached, as promised.', from_userid: bob.id }]);
  assert.deepEqual(problems, []);
});

test('Sent sits beside Inbox, Spam and Trash; search looks in the folder shown, ignoring case and accents', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  await send(app, ada.id, { to_email: bob.email, subject: 'Lunch on Friday?', message: 'The usual place.' });
  await send(app, ada.id, { to_email: bob.email, subject: 'Budget 2026', message: 'Figures for next year.' });
  await send(app, ada.id, { to_email: bob.email, subject: 'Café au lait', message: 'Coffee tomorrow?' });
  await send(app, bob.id, { to_email: ada.email, subject: 'Lunch plans', message: 'Count me in.' });
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 3);
  assert.deepEqual(await page.locator('.folders button').allTextContents().then((names) => names.map((name) => name.trim())), ['Inbox 3', 'Sent', 'Spam', 'Trash']);

  const search = page.getByRole('searchbox', { name: 'Search Inbox' });
  await search.fill('LUN');
  await search.press('Enter');
  await listShows(page, 'inbox', 1);
  assert.deepEqual(await subjects(page), ['Lunch on Friday?']);
  await textBecomes(page.locator('#search-text'), 'Results for “LUN”');
  await checkA11y(page, 'search results');
  await screenshot(page, 'desktop-search');
  await search.fill('cafe');
  await search.press('Enter');
  await eventually('"cafe" finds "Café"', async () => JSON.stringify(await subjects(page)) === JSON.stringify(['Café au lait']));
  await search.fill('nothing-like-this');
  await search.press('Enter');
  await textBecomes(page.locator('#list-state-text'), 'No messages in Inbox match “nothing-like-this”.');
  await checkA11y(page, 'search without results');
  await page.getByRole('button', { name: 'Clear search' }).click();
  await listShows(page, 'inbox', 3);

  await folderButton(page, 'sent').click();
  await listShows(page, 'sent', 1);
  assert.equal(await page.title(), 'Sent · Inbox (3)');
  assert.equal(await page.getByRole('searchbox').getAttribute('placeholder'), 'Search Sent');
  await page.getByRole('searchbox', { name: 'Search Sent' }).fill('budget');
  await page.keyboard.press('Enter');
  await textBecomes(page.locator('#list-state-text'), 'No messages in Sent match “budget”.');
  assert.deepEqual(problems, []);
});

test('dates: every row says when, relatively when recent ("3 min", "Tue", "12 Mar"), with the exact time on hover; no time known, nothing shown', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  const now = Date.now();
  const ages: [string, number | null][] = [
    ['three minutes', now - 3 * 60_000 - 5_000],
    ['two days', now - 2 * 24 * 3_600_000],
    ['forty days', now - 40 * 24 * 3_600_000],
    ['four hundred days', now - 400 * 24 * 3_600_000],
    ['never recorded', null],
  ];
  for (const [subject, createdAt] of ages) {
    const message = await send(app, ada.id, { to_email: bob.email, subject, message: '…' });
    await app.db.updateTable('messages').set({ created_at: createdAt }).where('id', '=', message.id).execute();
  }
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 5);
  const shown = await page.locator('#messages > li').evaluateAll((items) =>
    items.map((item) => {
      const time = item.querySelector('time');
      return { subject: item.querySelector('.subject')?.textContent, text: time?.textContent, title: time?.getAttribute('title') ?? null, datetime: time?.getAttribute('datetime') ?? null };
    }),
  );
  const expected = ages.map(([subject, createdAt]) => {
    const when = formatWhen(createdAt === null ? null : new Date(createdAt).toISOString(), new Date(), 'UTC');
    return { subject, text: when?.text ?? '', title: when?.title ?? null, datetime: when?.iso ?? null };
  });
  assert.deepEqual([...shown].reverse(), expected);
  assert.equal(shown[4]?.text, '3 min');
  assert.match(shown[3]?.text ?? '', /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)$/);
  assert.match(shown[2]?.text ?? '', /^\d{1,2} [A-Z][a-z]{2}( \d{4})?$/);
  assert.match(shown[1]?.text ?? '', /^\d{1,2} [A-Z][a-z]{2} \d{4}$/);
  assert.match(shown[4]?.title ?? '', /^[A-Z][a-z]+day,? \d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d:\d\d UTC$/);
  assert.deepEqual(shown[0], { subject: 'never recorded', text: '', title: null, datetime: null });
  await checkA11y(page, 'dates in rows');
  assert.deepEqual(problems, []);
});

test('sign up from the page when the server allows it, then straight into the new mailbox; a wrong password reads in plain words', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t, requiredAuth());
  const { page, problems } = await openTab(t);
  await page.goto(`${baseUrl}/inbox`);
  assert.equal(page.url(), `${baseUrl}/inbox/`, '/inbox redirects to /inbox/');
  await page.locator('#sign-in-form').getByLabel('Email', { exact: true }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'email');
  await checkA11y(page, 'sign-in form');
  await screenshot(page, 'desktop-sign-in');
  await page.setViewportSize(PHONE);
  await screenshot(page, 'phone-sign-in');
  await page.setViewportSize(DESKTOP);

  await page.getByRole('button', { name: 'Create an account' }).click();
  const signUp = page.locator('#sign-up-form');
  await textBecomes(page.locator('#new-password-hint'), /^At least 8 characters\./);
  await signUp.getByLabel('Email', { exact: true }).fill('new.person@example.com');
  await signUp.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await textBecomes(page.getByRole('alert').first(), /password/i);
  await checkA11y(page, 'sign-up form with an error');
  await signUp.getByLabel('Password', { exact: true }).fill('a long enough passphrase');
  await page.getByRole('button', { name: 'Create account' }).click();
  await textBecomes(page.locator('#who'), 'Signed in as new.person@example.com');
  await listShows(page, 'inbox', 0);
  await textBecomes(page.locator('#list-state-text'), 'No messages in Inbox.');
  assert.equal(await page.getByRole('alert').first().isVisible(), false, 'the earlier error is gone');
  await checkA11y(page, 'empty inbox');
  const created = await app.db.selectFrom('users').select('email').execute();
  assert.deepEqual(created, [{ email: 'new.person@example.com' }]);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await textBecomes(page.locator('#status'), 'Signed out.');
  await page.locator('#sign-in-form').getByLabel('Email', { exact: true }).fill('new.person@example.com');
  await page.locator('#sign-in-form').getByLabel('Password', { exact: true }).fill('not the passphrase');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await textBecomes(page.getByRole('alert').first(), 'Incorrect email or password');
  await signIn(page, 'new.person@example.com', 'a long enough passphrase', 0);
  assert.deepEqual(problems, []);

  // A server that takes no new accounts: the page offers none.
  const closed = await openTab(t);
  await closed.page.route('**/auth/config', (route) => route.fulfill({ json: { auth_mode: 'required', sign_up: false, password_min_length: 8, token_ttl_seconds: 900 } }));
  await closed.page.goto(`${baseUrl}/inbox/`);
  await closed.page.locator('#sign-in').waitFor();
  assert.equal(await closed.page.getByRole('button', { name: 'Create an account' }).isVisible(), false);
});

test('with authentication off the page says it switches mailboxes, never that it signs anyone out, and reads the user list once', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  await send(app, ada.id, { to_email: bob.email, subject: 'Hello Bob', message: 'Hi!' });
  const { page, problems } = await openTab(t);
  let userLists = 0;
  let openApiDocuments = 0;
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (request.method() === 'GET' && path === '/users/') userLists += 1;
    if (path === '/openapi.json') openApiDocuments += 1;
  });
  await page.goto(`${baseUrl}/inbox/`);
  await textBecomes(page.locator('#pick-user .hint'), /^Authentication is off on this server: nobody signs in/);
  await checkA11y(page, 'mailbox picker');
  await screenshot(page, 'desktop-picker');
  await pickMailbox(page, baseUrl, bob.email, 1);
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
  await page.getByRole('button', { name: 'Switch mailbox' }).click();
  await textBecomes(page.locator('#status'), 'Choose a mailbox to open.');
  await pickMailbox(page, baseUrl, ada.email, 0);
  await page.getByRole('button', { name: 'Switch mailbox' }).click();
  // A mailbox made here joins the picker without the list being read again.
  await page.getByRole('button', { name: 'Create a mailbox' }).click();
  await page.locator('#sign-up-form').getByLabel('Email', { exact: true }).fill('carol@example.com');
  await page.locator('#sign-up-form').getByLabel('Password', { exact: true }).fill('secret-password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await textBecomes(page.locator('#who'), 'Mailbox of carol@example.com');
  await page.getByRole('button', { name: 'Switch mailbox' }).click();
  await pickMailbox(page, baseUrl, 'carol@example.com', 0);
  assert.equal(userLists, 1, 'GET /users/ once per page load');
  assert.equal(openApiDocuments, 0, 'the mode comes from /auth/config, not the OpenAPI document');
  assert.deepEqual(problems, []);
});

test('paging keeps every page loaded, and 30 messages are marked read in requests of at most 10', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  const ids: number[] = [];
  for (let index = 0; index < 30; index += 1) ids.push((await send(app, ada.id, { to_email: bob.email, subject: `#${index}`, message: 'x' })).id);
  const { page, problems } = await openTab(t);
  const batchSizes: number[] = [];
  page.on('request', (request) => {
    if (request.method() === 'PUT' && request.url().endsWith('/msg/list/')) batchSizes.push((JSON.parse(request.postData() ?? '{}') as { message_id_list: number[] }).message_id_list.length);
  });
  await pickMailbox(page, baseUrl, bob.email, 25);
  await page.getByRole('button', { name: 'Load more' }).click();
  await listShows(page, 'inbox', 30);
  assert.equal(await page.getByRole('button', { name: 'Load more' }).isVisible(), false, 'no more pages');
  assert.equal(await page.evaluate(() => document.activeElement?.closest('li')?.querySelector('.subject')?.textContent), '#4', 'focus goes on with the first row loaded');
  await page.getByLabel('Select all').check();
  await textBecomes(page.locator('#selection'), '30 selected');
  await page.getByRole('button', { name: 'Mark read' }).click();
  await textBecomes(page.locator('#toast-text'), '30 messages marked read');
  await textBecomes(unreadBadge(page, 'inbox'), '');
  assert.deepEqual(batchSizes, [10, 10, 10]);
  assert.equal(await rows(page).count(), 30, 'the pages loaded stay');
  assert.ok((await stored(app, ids)).every((message) => message.unread === 'N'));
  assert.deepEqual(problems, []);
});

test('the README screenshot: a mailbox as a person has it, a conversation open, at desktop and phone sizes', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t);
  const ada = await createUser(app, 'ada.lovelace@example.com');
  const bob = await createUser(app, 'bob@example.com');
  const grace = await createUser(app, 'grace.hopper@example.com');
  const yusuf = await createUser(app, 'yusuf@example.com');
  const now = Date.now();
  const minutes = (count: number) => now - count * 60_000;
  const mail: [number, string, string, number][] = [
    [grace.id, 'Compiler meeting notes', 'Notes from Monday attached below.\n\n1. Parser rewrite\n2. Test coverage', minutes(6 * 24 * 60)],
    [yusuf.id, 'مرحبا! Project kickoff', 'أهلاً بوب، نلتقي يوم الأحد الساعة العاشرة.', minutes(3 * 24 * 60)],
    [grace.id, 'Conference travel', 'Flights are booked: Tuesday 9:40, back Friday evening.', minutes(26 * 60)],
  ];
  for (const [from, subject, message, at] of mail) {
    const sent = await send(app, from, { to_email: bob.email, subject, message });
    await app.db.updateTable('messages').set({ created_at: at }).where('id', '=', sent.id).execute();
  }
  const lunch = await send(app, ada.id, { to_email: bob.email, subject: 'Lunch on Friday?', message: 'Shall we try the new place by the river? Noon suits me.\n\nAda' });
  const answer = await send(app, bob.id, { in_reply_to: lunch.id, message: 'Yes, noon works. Shall I book a table for three?' });
  const last = await send(app, ada.id, { in_reply_to: lunch.id, message: 'Please do, Grace is coming too.\nSee you there!\n\nAda' });
  await send(app, grace.id, { to_email: bob.email, subject: 'Quarterly report draft', message: 'Revenue is up 4 % on last quarter; details inside.' });
  for (const [id, at] of [[lunch.id, minutes(95)], [answer.id, minutes(70)], [last.id, minutes(12)]] as const) {
    await app.db.updateTable('messages').set({ created_at: at }).where('id', '=', id).execute();
  }
  await batch(app, { message_id_list: [lunch.id], read: true });
  const { page, problems } = await openTab(t);
  await pickMailbox(page, baseUrl, bob.email, 6);
  await row(page, 'Re: Lunch on Friday?').locator('button.open').click();
  await eventually('the conversation', async () => (await page.locator('#thread > li').count()) === 3);
  await page.mouse.move(0, 0);
  await checkA11y(page, 'README screenshot (desktop)');
  await screenshot(page, 'desktop-readme');
  if (process.env.UPDATE_DOCS_SCREENSHOT === '1') await copyFile(join(SCREENSHOTS, 'desktop-readme.png'), join(projectRoot, 'docs', 'inbox.png'));
  await page.keyboard.press('Escape');
  await page.setViewportSize(PHONE);
  await screenshot(page, 'phone-readme');
  assert.deepEqual(problems, []);
});

test('/docs renders and "Try it out" runs GET /', { skip, timeout: 60_000 }, async (t) => {
  const { baseUrl } = await startServer(t);
  const { page } = await openTab(t);
  // domcontentloaded: the validator badge's image from outside must not hold the test up (offline CI).
  await page.goto(`${baseUrl}/docs`, { waitUntil: 'domcontentloaded' });
  const title = page.locator('.information-container .title').first();
  await title.waitFor({ timeout: 15_000 });
  assert.match((await title.textContent()) ?? '', /^Inbox API/);
  const operation = page.locator('.opblock-get').filter({ has: page.locator('[data-path="/"]') });
  await operation.locator('.opblock-summary').first().click();
  await operation.getByRole('button', { name: 'Try it out' }).click();
  await operation.getByRole('button', { name: 'Execute' }).click();
  const body = operation.locator('.live-responses-table .response-col_description pre').first();
  await body.waitFor();
  assert.deepEqual(JSON.parse((await body.textContent()) ?? ''), { Hello: 'World' });
  await operation.screenshot({ path: join(SCREENSHOTS, 'docs-try-it-out.png') });
});
