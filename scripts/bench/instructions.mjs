#!/usr/bin/env node
// Instructions per request, by callgrind: repeatable where CPU time is not (on a shared virtual
// machine the bench's CPU µs per request moved by a quarter within minutes). Runs the built service
// (`npm run -s build` first) under `valgrind --tool=callgrind` twice, answering 1,000 and then 3,000
// requests (16 connections, autocannon), and divides the difference of the two totals by 2,000, so
// start-up and shutdown cancel out; the same for a bare node:http server with --bare. About three
// minutes per figure. Usage:
//   node scripts/bench/instructions.mjs [--bare] [PATH]        (default PATH: /)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

const bare = process.argv.includes('--bare');
const path = process.argv.slice(2).find((argument) => argument.startsWith('/')) ?? '/';
const BARE_SERVER = `const http = require('node:http'); const body = JSON.stringify({ Hello: 'World' });
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); })
  .listen(Number(process.env.PORT), '127.0.0.1'); process.on('SIGTERM', () => process.exit(0));`;

async function instructions(requests) {
  const dir = mkdtempSync(join(tmpdir(), 'inbox-instructions-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const args = bare ? ['-e', BARE_SERVER] : ['--max-semi-space-size=4', 'dist/server.js'];
  const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${join(dir, 'callgrind.out')}`, process.execPath, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // As the bench runs the service: production, info logs, no tokens, no abuse limits, a database of its own.
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, REDIS_KEY_PREFIX: `instructions-${port}:`, LOG_LEVEL: 'info', AUTH_MODE: 'off', RATE_LIMITS: 'off' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await fetch(`${url}/`);
      break;
    } catch {
      if (attempt > 900) throw new Error(`${url} did not come up under valgrind:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const result = await autocannon({ url: url + path, connections: 16, amount: requests, timeout: 60 });
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  const total = /refs:\s+([\d,]+)/.exec(stderr)?.[1];
  if (total === undefined || result.non2xx > 0 || result.errors > 0) throw new Error(`no count, or failed requests (${result.non2xx} non-2xx, ${result.errors} errors):\n${stderr}`);
  return Number(total.replaceAll(',', ''));
}

const few = await instructions(1000);
const many = await instructions(3000);
console.log(`${bare ? 'bare node:http' : 'service'} GET ${path}: ${Math.round((many - few) / 2000).toLocaleString('en')} instructions per request`);
