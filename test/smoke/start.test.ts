/**
 * Starts the built service the way production does (`node dist/server.js`) and checks that it
 * answers, documents itself, warns when Redis is missing and exits cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SQLITE_PASS_ONLY } from '../helpers/services.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const STARTUP_TIMEOUT_MS = 15_000;
const SHUTDOWN_TIMEOUT_MS = 5_000;

/** A port that was free a moment ago: listen on port 0, read what the kernel chose, close. */
async function pickFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<Exit> {
  if (hasExited(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/** Polls GET / until the server answers, the process dies, or the deadline passes. */
async function waitUntilAnswering(baseUrl: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      assert.fail(`server exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${output()}`);
    }
    try {
      const response = await fetch(`${baseUrl}/`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  assert.fail(`server did not answer within ${STARTUP_TIMEOUT_MS} ms:\n${output()}`);
}

before(() => {
  // Compile src/ to dist/ and web/src/ to dist/web/ once, exactly as `npm run build` does.
  for (const project of ['tsconfig.build.json', 'web']) {
    execFileSync(process.execPath, [join(projectRoot, 'node_modules', 'typescript-7', 'bin', 'tsc'), '-p', project], { cwd: projectRoot, stdio: 'inherit' });
  }
});

test('the built server starts without Redis, serves its API and docs, and exits 0 on SIGTERM', { timeout: 60_000, skip: SQLITE_PASS_ONLY }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'inbox-smoke-'));
  const port = await pickFreePort();
  const baseUrl = `http://127.0.0.1:${port}`;

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dataDir, 'inbox.db')}`,
    LOG_LEVEL: 'warn',
  };
  delete env.REDIS_URL;

  const child = spawn(process.execPath, ['dist/server.js'], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  t.after(async () => {
    if (!hasExited(child)) {
      child.kill('SIGKILL');
      await waitForExit(child, SHUTDOWN_TIMEOUT_MS).catch(() => undefined);
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  await waitUntilAnswering(baseUrl, child, () => output);

  await t.test('GET / answers exactly {"Hello":"World"}', async () => {
    const response = await fetch(`${baseUrl}/`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{"Hello":"World"}');
  });

  await t.test('GET /openapi.json documents /msg/list/', async () => {
    const response = await fetch(`${baseUrl}/openapi.json`);
    assert.equal(response.status, 200);
    const document: unknown = await response.json();
    assert.ok(typeof document === 'object' && document !== null && 'paths' in document, 'no "paths" in the document');
    const { paths } = document;
    assert.ok(typeof paths === 'object' && paths !== null, '"paths" is not an object');
    assert.ok(Object.hasOwn(paths, '/msg/list/'), `"/msg/list/" missing from paths: ${Object.keys(paths).join(', ')}`);
  });

  await t.test('GET /docs serves the Swagger UI page', async () => {
    const response = await fetch(`${baseUrl}/docs`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    await response.text();
  });

  await t.test('GET /inbox/ serves the web inbox with caching headers; /inbox redirects there', async () => {
    const page = await fetch(`${baseUrl}/inbox/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.match(await page.text(), /<script type="module" src="main.js"><\/script>/);
    const styles = await fetch(`${baseUrl}/inbox/styles.css`);
    assert.equal(styles.status, 200);
    // Revalidated against its ETag on every load, so a new release is never mixed with a cached old one.
    assert.equal(styles.headers.get('cache-control'), 'no-cache');
    assert.ok(styles.headers.get('etag'), 'an ETag to revalidate against');
    await styles.text();
    const bare = await fetch(`${baseUrl}/inbox`, { redirect: 'manual' });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), '/inbox/');
  });

  await t.test('a warning says REDIS_URL is unset', async () => {
    // Log lines reach stdout in batches, within 200 ms (README, Operations): wait for the batch, up to 2 s.
    const findWarning = () => output.split('\n').find((line) => line.includes('REDIS_URL'));
    for (const deadline = Date.now() + 2000; findWarning() === undefined && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const warning = findWarning();
    assert.ok(warning, `no line mentions REDIS_URL in the output:\n${output}`);
    // Pino writes JSON when stdout is not a TTY; level 40 is "warn".
    const record: unknown = JSON.parse(warning);
    assert.ok(typeof record === 'object' && record !== null && 'level' in record, `not a log record: ${warning}`);
    assert.equal(record.level, 40);
  });

  await t.test('SIGTERM makes it exit with code 0 within 5 s', async () => {
    assert.ok(child.kill('SIGTERM'), 'could not signal the server');
    const exit = await waitForExit(child, SHUTDOWN_TIMEOUT_MS);
    assert.deepEqual(exit, { code: 0, signal: null }, `output:\n${output}`);
  });
});
