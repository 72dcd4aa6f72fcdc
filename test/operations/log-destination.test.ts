/**
 * The service's stdout log (src/log-destination.ts): lines in order, in batches, never lost while
 * the process runs, bounded while stdout is not read (the dropped ones counted and reported), and
 * written synchronously on exit. Real descriptors: a file, and a FIFO whose reader stops reading.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BatchedLog, LOG_FLUSH_MS } from '../../src/log-destination.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const line = (index: number) => `{"n":${index}}\n`;

describe('the batched stdout log', () => {
  let directory: string;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'log-destination-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  /** Waits until `done()` holds, up to a second. */
  async function until(done: () => boolean): Promise<void> {
    for (const deadline = Date.now() + 1000; !done() && Date.now() < deadline; ) await sleep(5);
  }

  test('lines are written in order, in a batch once enough have gathered, the rest when flushed', async () => {
    const file = join(directory, 'batches.log');
    const fd = openSync(file, 'w');
    const log = new BatchedLog(fd, { batchChars: 100, maxHeldChars: 10_000 });
    const read = () => readFileSync(file, 'utf8');
    for (let index = 0; index < 5; index += 1) log.write(line(index));
    await nextTurn();
    await sleep(20);
    assert.equal(read(), '', 'fewer than 100 characters wait for more, or for the flush');
    for (let index = 5; index < 20; index += 1) log.write(line(index));
    await nextTurn();
    await until(() => read() !== '');
    const expected = Array.from({ length: 20 }, (_, index) => line(index)).join('');
    assert.equal(read(), expected, 'past 100 characters, everything held is written, in order');
    log.write(line(20));
    log.flush();
    await until(() => read().length > expected.length);
    assert.equal(read(), expected + line(20));
    closeSync(fd);
  });

  test("flush's callback comes once what was held is written, even behind a write in flight", async () => {
    const file = join(directory, 'callback.log');
    const fd = openSync(file, 'w');
    const log = new BatchedLog(fd, { batchChars: 10, maxHeldChars: 10_000 });
    log.write(line(1));
    await nextTurn();
    // Past 10 characters: a write is in flight now; the next line waits behind it.
    log.write(line(2));
    await new Promise<void>((resolve, reject) => log.flush((error) => (error ? reject(error) : resolve())));
    assert.equal(readFileSync(file, 'utf8'), line(1) + line(2));
    closeSync(fd);
  });

  test('flushSync writes what is held before it returns (the exit handler)', async () => {
    const file = join(directory, 'exit.log');
    const fd = openSync(file, 'w');
    const log = new BatchedLog(fd);
    log.write(line(1));
    log.write(line(2));
    log.flushSync();
    assert.equal(readFileSync(file, 'utf8'), line(1) + line(2));
    closeSync(fd);
  });

  test('a stdout that is not read holds a bounded amount, drops the rest, and says how many once it reads again', async () => {
    const fifo = join(directory, 'stalled.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const log = new BatchedLog(writer, { batchChars: 1024, maxHeldChars: 256 * 1024 });
    // A pipe holds 64 KiB, a batch being written at most 256 KiB and those waiting 256 KiB more: of
    // 2,000,000 characters, most are dropped.
    const long = 'x'.repeat(990);
    const total = 2000;
    for (let index = 0; index < total; index += 1) {
      log.write(`{"n":${index},"pad":"${long}"}\n`);
      if (index % 10 === 9) await nextTurn();
    }
    await nextTurn();
    await sleep(100);
    assert.ok(log.dropped > 0, 'lines past the bound are dropped');

    // The reader comes back: every line arrives, in order, or is counted by a warning that stands where
    // it was lost.
    let text = '';
    const chunk = Buffer.alloc(64 * 1024);
    const drain = () => {
      for (;;) {
        let count: number;
        try {
          count = readSync(reader, chunk, 0, chunk.length, null);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return;
          throw error;
        }
        if (count === 0) return;
        text += chunk.toString('utf8', 0, count);
      }
    };
    const account = () => {
      const kept: number[] = [];
      let warned = 0;
      for (const entry of text.split('\n').slice(0, -1)) {
        const record = JSON.parse(entry) as { n?: number; level?: number; msg?: string };
        const warning = /^log: (\d+) lines dropped while stdout was not being read$/.exec(record.msg ?? '');
        if (warning) {
          assert.equal(record.level, 40);
          warned += Number(warning[1]);
        } else kept.push(record.n ?? -1);
      }
      return { kept, warned };
    };
    for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
      drain();
      const { kept, warned } = account();
      if (kept.length + warned === total) break;
      log.flush();
      await sleep(10);
    }
    const { kept, warned } = account();
    assert.ok(warned > 0, 'a warning counts the dropped lines');
    assert.equal(kept.length + warned, total, 'every line arrives or is counted');
    assert.ok(
      kept.every((n, index) => index === 0 || n > (kept[index - 1] ?? -1)),
      'in order',
    );
    assert.equal(log.dropped, 0, 'the count starts again');
    closeSync(writer);
    closeSync(reader);
  });

  test(`a quiet instance's lines go out within ${LOG_FLUSH_MS} ms (the service's timer)`, async () => {
    // stdoutDestination's timer calls flush() every LOG_FLUSH_MS; one call writes whatever is held.
    const file = join(directory, 'quiet.log');
    const fd = openSync(file, 'w');
    const log = new BatchedLog(fd);
    log.write(line(7));
    await nextTurn();
    await sleep(20);
    assert.equal(readFileSync(file, 'utf8'), '');
    log.flush();
    await until(() => readFileSync(file, 'utf8') !== '');
    assert.equal(readFileSync(file, 'utf8'), line(7));
    closeSync(fd);
  });
});
