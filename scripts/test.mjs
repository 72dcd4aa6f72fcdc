#!/usr/bin/env node
// `npm test`: the whole suite on SQLite and, when TEST_DATABASE_URL is set, again on PostgreSQL.
// Prints one closing line for both runs: "tests: N passed, N failed".
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return testFiles(path);
      return name.endsWith('.test.ts') ? [path] : [];
    })
    .sort();
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : testFiles('test');
const dialects = ['sqlite', ...(process.env.TEST_DATABASE_URL ? ['postgres'] : [])];
const totals = { pass: 0, fail: 0 };

/**
 * One pass of the suite on a dialect. Its output goes to `write` as it comes. One file at a time by
 * default: on PostgreSQL, Kysely's migrator reads the catalog of every schema, and a schema another
 * file drops at that moment fails the read. TEST_CONCURRENCY raises it.
 */
function runPass(dialect, write) {
  return new Promise((resolve) => {
    const concurrency = process.env.TEST_CONCURRENCY ?? '1';
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
      env: { ...process.env, TEST_DIALECT: dialect },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // All of it, not a tail: after the summary, the reporter lists every failing test again, which can be long.
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      write(chunk);
      output += chunk;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => write(chunk));
    child.on('close', (code) => {
      const read = (label) => Number([...output.matchAll(new RegExp(`^ℹ ${label} (\\d+)$`, 'gm'))].at(-1)?.[1] ?? 0);
      // A crashed runner with no summary still counts as a failure.
      const fail = read('fail') + read('cancelled') + (code !== 0 && read('fail') === 0 ? 1 : 0);
      resolve({ pass: read('pass'), fail });
    });
  });
}

// The passes share nothing (the SQLite pass never touches TEST_DATABASE_URL; Redis keys have a prefix
// per test), and each mostly waits on one core, so they run side by side: the first pass's output
// streams, the others' is held and printed whole after it. TEST_PASSES=serial runs them one by one.
const together = process.env.TEST_PASSES !== 'serial';
const held = dialects.map(() => []);
const passes = [];
for (const [index, dialect] of dialects.entries()) {
  const header = `\n=== test suite on ${dialect} ===\n\n`;
  const write = index === 0 || !together ? (text) => process.stdout.write(text) : (text) => void held[index].push(text);
  if (!together && index > 0) await passes[index - 1];
  write(header);
  passes.push(runPass(dialect, write));
}
for (const [index, pass] of passes.entries()) {
  const counts = await pass;
  if (together && index > 0) process.stdout.write(held[index].join(''));
  totals.pass += counts.pass;
  totals.fail += counts.fail;
}

console.log(`\ntests (${dialects.join(' + ')}): ${totals.pass} passed, ${totals.fail} failed`);
// Not process.exit(): into a pipe (CI tees it), a held pass's output is still being written, and exiting
// now would cut it off, this line with it.
process.exitCode = totals.fail === 0 && totals.pass > 0 ? 0 : 1;
