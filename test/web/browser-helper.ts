/**
 * What the web inbox's browser stories share: the real app listening on a free port, one Debian
 * Chromium per test file (driven by playwright-core) with a fresh context per story, axe-core run in
 * every state (a serious or critical violation fails the story), screenshots into test-output/, and
 * small steps a person takes (open a mailbox, sign in, wait for a text).
 *
 * axe-core is injected from node_modules/axe-core/axe.min.js as a script of the page's own origin
 * (a routed URL), so the page keeps its real Content-Security-Policy (script-src 'self') while tested:
 * a CSP violation by the page's own code still shows up as a console error and fails the story.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import type { components } from '../../web/src/api-types.js';
import { buildTestApp } from '../helpers/build-test-app.js';
import { SQLITE_PASS_ONLY } from '../helpers/services.js';

export type MailMessage = components['schemas']['MailboxMessage'];

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(projectRoot, 'test-output');
export const AUTH_SECRET = 'web-inbox-browser-test-secret-0123456789abcdef';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const AXE_URL_PATH = '/__browser-test__/axe.min.js';

/** The page is tested once, in the SQLite pass: it exercises the UI, not the database. */
export const skip: string | false = existsSync(CHROMIUM) ? SQLITE_PASS_ONLY : `no browser at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`;

let built = false;
/** The page's scripts, compiled exactly as `npm run build` does (once per test file). */
export function buildWeb(): void {
  if (skip || built) return;
  execFileSync(process.execPath, [join(projectRoot, 'node_modules', 'typescript-7', 'bin', 'tsc'), '-p', 'web'], { cwd: projectRoot, stdio: 'inherit' });
  built = true;
}

export interface Server {
  app: FastifyInstance;
  baseUrl: string;
  /** the app's Redis, without its key prefix */
  redis: Redis;
}

/** The real app on a fresh database, listening on 127.0.0.1 at a free port. */
export async function startServer(t: TestContext, env: Record<string, string> = {}): Promise<Server> {
  const { app, redis } = await buildTestApp(t, env);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as AddressInfo;
  return { app, redis, baseUrl: `http://127.0.0.1:${address.port}` };
}

export function requiredAuth(): Record<string, string> {
  return { AUTH_MODE: 'required', AUTH_SECRET };
}

let browser: Promise<Browser> | undefined;
/** One Chromium for the whole file (starting one costs about a second); each story has its own context. */
function sharedBrowser(): Promise<Browser> {
  browser ??= chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return browser;
}
after(async () => {
  if (browser) await (await browser).close();
});

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** script errors and CSP violations seen so far */
  problems: string[];
}

/** A fresh browser context (its own storage) with one page; closed when the story ends. */
export async function openTab(
  t: TestContext,
  options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark'; axe?: boolean } = {},
): Promise<Tab> {
  const context = await (await sharedBrowser()).newContext({ viewport: options.viewport ?? DESKTOP, colorScheme: options.colorScheme ?? 'light', locale: 'en-GB', timezoneId: 'UTC' });
  t.after(() => context.close());
  // Playwright turns the HTTP cache off while any route is set: a story that measures caching goes without axe.
  if (options.axe !== false) await context.route(`**${AXE_URL_PATH}`, (route) => route.fulfill({ path: AXE_PATH, contentType: 'text/javascript; charset=utf-8' }));
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // "Failed to load resource" lines are the API's expected 4xx answers (and the failures a story makes on purpose).
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  // Bounds on waiting, not on speed: the suite's two passes run side by side on two cores, and a page's
  // first load then takes a few seconds more.
  page.setDefaultTimeout(20_000);
  return { context, page, problems };
}

/** Another tab in the same context (same sessionStorage origin rules as a person's second tab). */
export async function secondTab(t: TestContext, options: { viewport?: { width: number; height: number } } = {}): Promise<Tab> {
  return openTab(t, options);
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * axe-core on the page as it is now (WCAG 2.x A and AA rules and best practices). Fails on a serious or
 * critical violation; every violation, of any impact, is written to test-output/axe.log with the state's name.
 */
export async function checkA11y(page: Page, state: string): Promise<void> {
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.addScriptTag({ url: AXE_URL_PATH });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, nodes: violation.nodes.map((node) => ({ target: node.target })) }));
  });
  await mkdir(SCREENSHOTS, { recursive: true });
  const lines = violations.map((violation) => `${state}: ${violation.impact} ${violation.id} (${violation.help}) at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  await appendFile(join(SCREENSHOTS, 'axe.log'), lines.length > 0 ? `${lines.join('\n')}\n` : `${state}: no violations\n`);
  axeStates.push({ state, violations: violations.length });
  const grave = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  assert.deepEqual(
    grave.map((violation) => `${violation.impact} ${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`),
    [],
    `axe-core in state "${state}"`,
  );
}
/** Every state axe looked at in this file, with its number of violations of any impact. */
export const axeStates: { state: string; violations: number }[] = [];

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Waits until the locator's text (trimmed) is `expected`; fails with what it was. */
export async function textBecomes(locator: Locator, expected: string | RegExp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let actual: string | null = null;
  while (Date.now() < deadline) {
    actual = ((await locator.count()) > 0 ? await locator.first().textContent() : null)?.trim() ?? null;
    if (actual !== null && (typeof expected === 'string' ? actual === expected : expected.test(actual))) return;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  assert.fail(`expected text ${String(expected)}, got ${JSON.stringify(actual)}`);
}

/** Waits until `check` holds, polling; fails with `what`. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  assert.fail(`timed out: ${what}`);
}

export const rows = (page: Page) => page.locator('#messages > li');
/** The row whose subject is exactly `subject`. */
export const row = (page: Page, subject: string) =>
  page.locator('#messages > li').filter({ has: page.locator('.subject', { hasText: new RegExp(`^${subject.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
export const subjects = (page: Page) => page.locator('#messages > li .subject').allTextContents();
export const unreadBadge = (page: Page, folder: string) => page.locator(`[data-count="${folder}"]`);
export const folderButton = (page: Page, folder: string) => page.locator(`button[data-folder="${folder}"]`);

/** Waits until the list has settled on `count` rows of `folder`. */
export async function listShows(page: Page, folder: string, count: number): Promise<void> {
  await page.locator(`button[data-folder="${folder}"][aria-current="page"]`).waitFor();
  await page.waitForFunction((n) => document.querySelector('#messages')?.getAttribute('aria-busy') === 'false' && document.querySelectorAll('#messages > li').length === n, count);
}

/** With authentication off: picks a mailbox in the picker and waits for its Inbox. */
export async function pickMailbox(page: Page, baseUrl: string, email: string, inboxRows?: number): Promise<void> {
  if (!page.url().startsWith(baseUrl)) await page.goto(`${baseUrl}/inbox/`);
  const select = page.getByLabel('Mailbox', { exact: true });
  await select.waitFor();
  const value = await select.locator('option', { hasText: `${email} (` }).getAttribute('value');
  await select.selectOption(value ?? '');
  await page.getByRole('button', { name: 'Open mailbox' }).click();
  await textBecomes(page.locator('#who'), `Mailbox of ${email}`);
  if (inboxRows !== undefined) await listShows(page, 'inbox', inboxRows);
}

export async function signIn(page: Page, email: string, password: string, inboxRows?: number): Promise<void> {
  const form = page.locator('#sign-in-form');
  await form.getByLabel('Email', { exact: true }).fill(email);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await textBecomes(page.locator('#who'), `Signed in as ${email}`);
  if (inboxRows !== undefined) await listShows(page, 'inbox', inboxRows);
}

// --- data, made through the API as another client would --------------------------------------

export async function createUser(app: FastifyInstance, email: string, password = 'secret-password'): Promise<{ id: number; email: string }> {
  const response = await app.inject({ method: 'POST', url: '/users/', payload: { email, password } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ id: number; email: string }>();
}

export async function tokenOf(app: FastifyInstance, email: string, password = 'secret-password'): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/token', payload: `username=${encodeURIComponent(email)}&password=${encodeURIComponent(password)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ access_token: string }>().access_token;
}

/** Sends as `from` through POST /users/{id}/messages (with its token when authentication is on). */
export async function send(
  app: FastifyInstance,
  from: number,
  mail: { to_email?: string; subject?: string; message: string; in_reply_to?: number },
  token?: string,
): Promise<MailMessage> {
  const response = await app.inject({
    method: 'POST',
    url: `/users/${from}/messages`,
    payload: mail,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json<MailMessage>();
}

export async function batch(app: FastifyInstance, payload: Record<string, unknown>, token?: string): Promise<void> {
  const response = await app.inject({ method: 'PUT', url: '/msg/list/', payload, headers: token ? { authorization: `Bearer ${token}` } : {} });
  assert.equal(response.statusCode, 200, response.body);
}

/** The stored folder and read state of messages, straight from the database. */
export async function stored(app: FastifyInstance, ids: number[]): Promise<{ id: number; folder: string; unread: string }[]> {
  return app.db.selectFrom('messages').select(['id', 'folder', 'unread']).where('id', 'in', ids).orderBy('id').execute();
}
