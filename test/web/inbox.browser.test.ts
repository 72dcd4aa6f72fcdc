/**
 * The web inbox in a real browser (Debian's Chromium through playwright-core) against the real app
 * listening on a free port: a person signs in, reads counts, reports spam, trashes and restores,
 * marks read and writes messages; the database and the Redis counter say the same as the page.
 * Screenshots of each folder go to test-output/. Also: /docs renders and its "Try it out" works.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { buildTestApp } from '../helpers/build-test-app.js';
import { createUser, sendMessages, storedMessages } from '../helpers/factories.js';
import { SQLITE_PASS_ONLY } from '../helpers/services.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(projectRoot, 'test-output');
const AUTH_SECRET = 'web-inbox-browser-test-secret-0123456789abcdef';

// The page is tested once, in the SQLite pass: it exercises the UI, not the database.
const skip = existsSync(CHROMIUM) ? SQLITE_PASS_ONLY : `no browser at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`;

before(() => {
  if (skip) return;
  // The page's scripts, compiled exactly as `npm run build` does.
  execFileSync(process.execPath, [join(projectRoot, 'node_modules', 'typescript-7', 'bin', 'tsc'), '-p', 'web'], { cwd: projectRoot, stdio: 'inherit' });
});

async function listening(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/** A fresh Chromium with a profile of its own, closed and removed when the test ends. */
async function openBrowser(t: TestContext): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const profile = await mkdtemp(join(tmpdir(), 'inbox-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1000, height: 680 },
  });
  t.after(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Script errors and CSP violations; "Failed to load resource" lines are the API's expected 4xx answers.
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.setDefaultTimeout(10_000);
  return { context, page, problems };
}

/** Waits until the locator's text (trimmed) is `expected`; fails with what it was. */
async function textBecomes(locator: Locator, expected: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let actual: string | null = null;
  while (Date.now() < deadline) {
    actual = ((await locator.count()) > 0 ? await locator.first().textContent() : null)?.trim() ?? null;
    if (actual === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`expected text ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

const unreadCount = (page: Page, folder: string) => page.locator(`[data-count="${folder}"]`);
const messageRows = (page: Page) => page.locator('#messages > li');

async function subjectsShown(page: Page): Promise<string[]> {
  return page.locator('#messages > li .subject').allTextContents();
}

async function selectBySubject(page: Page, subject: string): Promise<void> {
  await messageRows(page).filter({ has: page.locator('.subject', { hasText: subject }) }).locator('input[type="checkbox"]').check();
}

async function openFolder(page: Page, name: 'Inbox' | 'Spam' | 'Trash', expectedRows: number): Promise<void> {
  await page.locator(`button[data-folder="${name.toLowerCase()}"]`).click();
  await page.locator(`button[data-folder="${name.toLowerCase()}"][aria-pressed="true"]`).waitFor();
  await page.waitForFunction((rows) => document.querySelectorAll('#messages > li').length === rows, expectedRows);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

test(
  'with AUTH_MODE=required, a recipient signs in, reports two of three messages as spam, trashes and restores one, and marks one read',
  { skip, timeout: 120_000 },
  async (t) => {
    const { app, redis } = await buildTestApp(t, { AUTH_MODE: 'required', AUTH_SECRET });
    const sender = await createUser(app, 'ada@example.com', 'ada-password');
    const recipient = await createUser(app, 'bob@example.com', 'bob-password');
    const baseUrl = await listening(app);
    const { page, problems } = await openBrowser(t);

    await t.test('the sender writes three messages from the page', async () => {
      await page.goto(`${baseUrl}/inbox`);
      assert.equal(page.url(), `${baseUrl}/inbox/`, '/inbox redirects to /inbox/');
      await page.getByLabel('Email', { exact: true }).fill(sender.email);
      await page.getByLabel('Password', { exact: true }).fill('ada-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await textBecomes(page.locator('#who'), `Signed in as ${sender.email}`);
      for (const [subject, body] of [
        ['Lunch on Friday?', 'The usual place at noon.'],
        ['Cheap watches!!!', 'Best prices, click now.'],
        ['You won a prize', 'Send your bank details to claim it.'],
      ] as const) {
        await page.getByRole('button', { name: 'Compose' }).click();
        await page.getByLabel('To', { exact: true }).selectOption({ label: recipient.email });
        await page.getByLabel('Subject', { exact: true }).fill(subject);
        await page.getByLabel('Message', { exact: true }).fill(body);
        await page.getByRole('button', { name: 'Send' }).click();
        await textBecomes(page.locator('#status'), `Message sent to ${recipient.email}.`);
        await page.locator('#compose').waitFor({ state: 'hidden' });
      }
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Email', { exact: true }).waitFor();
      const stored = await app.db.selectFrom('messages').selectAll().where('to_userid', '=', recipient.id).execute();
      assert.equal(stored.length, 3);
      assert.ok(stored.every((message) => message.from_userid === sender.id && message.folder === 'inbox' && message.unread === 'Y'));
    });

    await t.test('a wrong password is shown in plain words', async () => {
      await page.getByLabel('Email', { exact: true }).fill(recipient.email);
      await page.getByLabel('Password', { exact: true }).fill('not-the-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await textBecomes(page.getByRole('alert'), 'Incorrect email or password');
      await screenshot(page, 'inbox-sign-in.png');
    });

    await t.test('the recipient signs in and sees three unread messages, newest first', async () => {
      await page.getByLabel('Password', { exact: true }).fill('bob-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await textBecomes(page.locator('#who'), `Signed in as ${recipient.email}`);
      await textBecomes(unreadCount(page, 'inbox'), '3');
      assert.equal(await page.getByRole('alert').isVisible(), false, 'the earlier error is gone');
      assert.deepEqual(await subjectsShown(page), ['You won a prize', 'Cheap watches!!!', 'Lunch on Friday?']);
      assert.equal(await page.locator('#messages > li.unread').count(), 3);
      assert.deepEqual(await page.locator('#messages > li .sender').allTextContents(), Array(3).fill(sender.email));
      await selectBySubject(page, 'You won a prize');
      await selectBySubject(page, 'Cheap watches!!!');
      await textBecomes(page.locator('#selection'), '2 selected');
      await screenshot(page, 'inbox-inbox.png');
    });

    await t.test('reporting two as spam moves them to Spam and counts the sender once', async () => {
      await page.getByRole('button', { name: 'Report spam' }).click();
      await textBecomes(page.locator('#status'), '2 messages reported as spam.');
      await textBecomes(unreadCount(page, 'inbox'), '1');
      await textBecomes(unreadCount(page, 'spam'), '2');
      assert.deepEqual(await subjectsShown(page), ['Lunch on Friday?']);
      assert.equal(await redis.get(`msg:spam-reports:uid:${sender.id}`), '1');

      await openFolder(page, 'Spam', 2);
      assert.deepEqual(await subjectsShown(page), ['You won a prize', 'Cheap watches!!!']);
      await screenshot(page, 'inbox-spam.png');
    });

    await t.test('a message moved to Trash can be restored', async () => {
      await openFolder(page, 'Inbox', 1);
      await selectBySubject(page, 'Lunch on Friday?');
      await page.getByRole('button', { name: 'Move to trash' }).click();
      await textBecomes(page.locator('#status'), '1 message moved to Trash.');
      await textBecomes(page.locator('#empty'), 'No messages here.');
      await textBecomes(unreadCount(page, 'trash'), '1');

      await openFolder(page, 'Trash', 1);
      await selectBySubject(page, 'Lunch on Friday?');
      await screenshot(page, 'inbox-trash.png');
      await page.getByRole('button', { name: 'Restore' }).click();
      await textBecomes(page.locator('#status'), '1 message restored to Inbox.');
      await textBecomes(unreadCount(page, 'trash'), '');
      await textBecomes(unreadCount(page, 'inbox'), '1');
      await openFolder(page, 'Inbox', 1);
    });

    await t.test('marking it read clears the unread count; the stored state matches the page', async () => {
      await selectBySubject(page, 'Lunch on Friday?');
      await page.getByRole('button', { name: 'Mark read' }).click();
      await textBecomes(page.locator('#status'), '1 message marked read.');
      await textBecomes(unreadCount(page, 'inbox'), '');
      assert.equal(await page.locator('#messages > li.unread').count(), 0);
      await textBecomes(page.locator('#messages > li .marker'), 'Read');

      const stored = await app.db.selectFrom('messages').select(['subject', 'folder', 'unread']).where('to_userid', '=', recipient.id).orderBy('id').execute();
      assert.deepEqual(stored, [
        { subject: 'Lunch on Friday?', folder: 'inbox', unread: 'N' },
        { subject: 'Cheap watches!!!', folder: 'spam', unread: 'Y' },
        { subject: 'You won a prize', folder: 'spam', unread: 'Y' },
      ]);
      assert.equal(await redis.get(`msg:spam-reports:uid:${sender.id}`), '1');
    });

    await t.test('the page stays usable at a phone width', async () => {
      await page.setViewportSize({ width: 390, height: 760 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.equal(overflow, 0, 'no horizontal scrolling');
      await screenshot(page, 'inbox-phone.png');
      await page.setViewportSize({ width: 1000, height: 680 });
    });

    await t.test('no script error or Content-Security-Policy violation happened', () => {
      assert.deepEqual(problems, []);
    });

    await t.test('/docs renders and "Try it out" runs GET /', async () => {
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
      await mkdir(SCREENSHOTS, { recursive: true });
      await operation.screenshot({ path: join(SCREENSHOTS, 'docs-try-it-out.png') });
    });
  },
);

test(
  'with authentication off, a person picks a user, pages with "Load more" and marks 23 messages read in batches of at most 10',
  { skip, timeout: 120_000 },
  async (t) => {
    const { app } = await buildTestApp(t);
    const sender = await createUser(app, 'carol@example.com');
    const recipient = await createUser(app, 'dan@example.com');
    const ids = await sendMessages(app, sender.id, recipient.id, 23);
    const baseUrl = await listening(app);
    const { page, problems } = await openBrowser(t);

    const batchSizes: number[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PUT' && request.url().endsWith('/msg/list/')) {
        batchSizes.push((JSON.parse(request.postData() ?? '{}') as { message_id_list: number[] }).message_id_list.length);
      }
    });

    await page.goto(`${baseUrl}/inbox/`);
    await page.getByLabel('User', { exact: true }).selectOption({ label: `${recipient.email} (#${recipient.id})` });
    await page.getByRole('button', { name: 'Open mailbox' }).click();
    await textBecomes(page.locator('#who'), `Mailbox of ${recipient.email}`);
    await textBecomes(unreadCount(page, 'inbox'), '23');
    assert.equal(await messageRows(page).count(), 20, 'one page of 20');
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#messages > li').length === 23);
    assert.equal(await page.getByRole('button', { name: 'Load more' }).isVisible(), false, 'no more pages');
    assert.deepEqual(await subjectsShown(page), Array.from({ length: 23 }, (_, index) => `#${22 - index}`));

    await page.getByLabel('Select all').check();
    await textBecomes(page.locator('#selection'), '23 selected');
    await page.getByRole('button', { name: 'Mark read' }).click();
    await textBecomes(page.locator('#status'), '23 messages marked read.');
    await textBecomes(unreadCount(page, 'inbox'), '');
    assert.deepEqual(batchSizes, [10, 10, 3]);
    assert.ok((await storedMessages(app, ids)).every((message) => message.unread === 'N'));

    // An error from the API in plain words: writing to someone who has left since the page loaded is a 404 "User not found".
    await page.getByRole('button', { name: 'Compose' }).click();
    await page.getByLabel('To', { exact: true }).selectOption({ label: sender.email });
    await app.db.deleteFrom('messages').where('from_userid', '=', sender.id).execute();
    await app.db.deleteFrom('users').where('id', '=', sender.id).execute();
    await page.getByLabel('Subject', { exact: true }).fill('Still there?');
    await page.getByRole('button', { name: 'Send' }).click();
    await textBecomes(page.getByRole('alert'), 'User not found');
    assert.deepEqual(problems, []);
  },
);
