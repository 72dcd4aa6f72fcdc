/**
 * What the first load of the web inbox costs on this machine, measured in Chromium through the
 * DevTools protocol: bytes transferred (compressed, headers included, as Network.loadingFinished's
 * encodedDataLength counts them) and the time from navigation to the first list on screen (the page's
 * own `inbox:first-list` performance mark) or to the sign-in form. Three loads: a new visitor, a
 * returning one with an empty cache, and a reload with a warm cache (ETag revalidation: 304s).
 * The figures go to test-output/first-load.json and the test's output; generous budgets fail the
 * test only when something grows out of proportion.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { CDPSession, Page } from 'playwright-core';
import { buildWeb, createUser, listShows, openTab, requiredAuth, SCREENSHOTS, send, signIn, skip, startServer, tokenOf } from './browser-helper.js';

before(buildWeb);

interface Transfer {
  url: string;
  status: number;
  bytes: number;
  /** of which headers */
  headerBytes: number;
  encoding: string;
}

/** Records every finished response of the page from now on. */
async function recordTransfers(page: Page): Promise<{ cdp: CDPSession; transfers: Map<string, Transfer> }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const transfers = new Map<string, Transfer>();
  cdp.on('Network.responseReceived', (event) => {
    const headers = Object.fromEntries(Object.entries(event.response.headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
    transfers.set(event.requestId, { url: event.response.url, status: event.response.status, bytes: 0, headerBytes: event.response.encodedDataLength, encoding: headers['content-encoding'] ?? '' });
  });
  cdp.on('Network.loadingFinished', (event) => {
    const transfer = transfers.get(event.requestId);
    if (transfer) transfer.bytes = event.encodedDataLength;
  });
  return { cdp, transfers };
}

function summary(transfers: Map<string, Transfer>, origin: string) {
  const finished = [...transfers.values()].filter((transfer) => transfer.bytes > 0);
  const path = (transfer: Transfer) => transfer.url.replace(origin, '');
  const assets = finished.filter((transfer) => path(transfer).startsWith('/inbox/'));
  return {
    requests: finished.length,
    bytes: finished.reduce((sum, transfer) => sum + transfer.bytes, 0),
    headerBytes: finished.reduce((sum, transfer) => sum + transfer.headerBytes, 0),
    assetBytes: assets.reduce((sum, transfer) => sum + transfer.bytes, 0),
    apiBytes: finished.filter((transfer) => !path(transfer).startsWith('/inbox/')).reduce((sum, transfer) => sum + transfer.bytes, 0),
    files: finished.map((transfer) => `${transfer.status} ${path(transfer)} ${transfer.bytes} B${transfer.encoding ? ` (${transfer.encoding})` : ''}`),
  };
}

async function millisecondsTo(page: Page, mark: 'inbox:first-list' | 'sign-in'): Promise<number> {
  if (mark === 'sign-in') {
    await page.locator('#sign-in').waitFor();
    return page.evaluate(() => Math.round(performance.now()));
  }
  await page.waitForFunction(() => performance.getEntriesByName('inbox:first-list').length > 0);
  return page.evaluate(() => Math.round(performance.getEntriesByName('inbox:first-list')[0]?.startTime ?? -1));
}

test('first load: bytes transferred and time to the first list, for a new visitor, a returning one with an empty cache, and a warm reload', { skip, timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startServer(t, requiredAuth());
  const ada = await createUser(app, 'ada@example.com');
  const bob = await createUser(app, 'bob@example.com');
  const token = await tokenOf(app, ada.email);
  for (let index = 0; index < 30; index += 1) await send(app, ada.id, { to_email: bob.email, subject: `Message ${index}`, message: 'A paragraph of ordinary text, as mail has. '.repeat(6) }, token);
  const { page, problems } = await openTab(t, { axe: false });
  const { cdp, transfers } = await recordTransfers(page);
  await cdp.send('Network.clearBrowserCache');

  await page.goto(`${baseUrl}/inbox/`);
  const newVisitor = { msToSignInForm: await millisecondsTo(page, 'sign-in'), ...summary(transfers, baseUrl) };

  await signIn(page, bob.email, 'secret-password', 25);
  await cdp.send('Network.clearBrowserCache');
  transfers.clear();
  await page.reload();
  const cold = { msToFirstList: await millisecondsTo(page, 'inbox:first-list'), ...summary(transfers, baseUrl) };
  await listShows(page, 'inbox', 25);

  transfers.clear();
  await page.reload();
  const warm = { msToFirstList: await millisecondsTo(page, 'inbox:first-list'), ...summary(transfers, baseUrl) };
  await listShows(page, 'inbox', 25);

  const figures = { machine: 'this machine (2 cores), Chromium headless, 127.0.0.1', newVisitor, returningColdCache: cold, returningWarmCache: warm };
  await mkdir(SCREENSHOTS, { recursive: true });
  await writeFile(join(SCREENSHOTS, 'first-load.json'), `${JSON.stringify(figures, null, 2)}\n`);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  t.diagnostic(`new visitor: ${kb(newVisitor.bytes)} (headers ${kb(newVisitor.headerBytes)}) in ${newVisitor.requests} requests, sign-in form at ${newVisitor.msToSignInForm} ms`);
  t.diagnostic(`returning, empty cache: ${kb(cold.bytes)} (headers ${kb(cold.headerBytes)}; assets ${kb(cold.assetBytes)}, API ${kb(cold.apiBytes)}) in ${cold.requests} requests, first list at ${cold.msToFirstList} ms`);
  t.diagnostic(`returning, warm cache: ${kb(warm.bytes)} in ${warm.requests} requests, first list at ${warm.msToFirstList} ms`);

  // Text assets come compressed; the mode is learned from /auth/config, never the OpenAPI document.
  for (const file of ['main.js', 'styles.css', 'mailbox.js']) {
    assert.ok(cold.files.some((line) => line.includes(`/inbox/${file} `) && line.endsWith('(br)')), `${file} is sent with brotli: ${cold.files.join('; ')}`);
  }
  assert.ok(!cold.files.some((line) => line.includes('/openapi.json')));
  assert.ok(cold.files.some((line) => line.includes('/auth/config')));
  // Chromium reports the revalidated page itself as its cached 200; what matters is that no body came again.
  const assetLines = warm.files.filter((line) => line.includes(' /inbox/'));
  assert.ok(assetLines.filter((line) => !line.includes(' /inbox/ ')).every((line) => line.startsWith('304 ')), `a warm reload revalidates: ${warm.files.join('; ')}`);
  assert.ok(warm.assetBytes < assetLines.length * 1200, `only headers come back: ${warm.assetBytes} B`);
  // Budgets: ample on this machine, tight enough to notice a framework or an image slipping in.
  assert.ok(cold.assetBytes < 100 * 1024, `assets ${cold.assetBytes} B`);
  assert.ok(cold.msToFirstList < 3_000, `first list after ${cold.msToFirstList} ms`);
  assert.deepEqual(problems, []);
});
