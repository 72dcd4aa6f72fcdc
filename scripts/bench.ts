/**
 * `npm run bench`: starts the built service (production settings, a new database of its own, Redis from
 * REDIS_URL under a key prefix of its own, LOG_LEVEL=info, abuse limits off) and a bare node:http
 * server, drives each with autocannon, and prints per workload req/s, the server's CPU time per
 * answered request and its multiple of the bare server's (measured in the same run, between the
 * workloads: each multiple divides by the bare readings nearest to it), p50/p99 latency, errors and the
 * largest RSS seen; then the issue's CPU targets and the worst workload against them.
 *
 *   npm run bench -- --duration 10 --connections 16 --only list,create --json
 *   npm run bench -- --database postgres --workers 2 --dataset large --log-level warn
 *
 * CPU per request: utime + stime of the server's process and every process under it (a cluster's
 * workers), from /proc/<pid>/stat before and after the measured run, divided by the responses it
 * answered. It moves far less with the machine's noise than req/s. Each workload is first driven
 * for --warmup seconds (not measured; default 3: after 1 s, V8 was still compiling hot functions, and a
 * create took 600k instructions against 560k after 5 s, perf stat). The bare server is measured for
 * --bare-duration seconds (after the same warm-up) before each workload and once after the last, and a
 * workload's multiple divides by the median of the three readings nearest to it: a shared machine's
 * speed drifts (bare readings of 88 down to 63 µs over one four-minute run), so a ratio of two readings
 * taken minutes apart moved with it, and a single reading can stray (82 µs among readings of 51-61).
 *
 * Workloads: hello (GET /: the request path with no database), create (POST /msg/create/), list (GET
 * /msg/list/?limit=10), read and spam (PUT a batch of 10 ids), folder (GET
 * /users/{id}/messages?limit=50 on a mailbox of 10,000 messages), folders (GET
 * /users/{id}/folders on that mailbox), changes (GET /users/{id}/changes?since=…&limit=100, the state
 * read from a listing 5 changes before), search (GET /users/{id}/messages?q=…&limit=50 over a mailbox
 * of 100,000 messages, rotating queries: a rare word, a common word, two words, a word and a 2-3 letter
 * prefix) and mailbox-open (GET /users/{id}/messages?limit=50 on that same mailbox). The 100,000
 * messages are written straight into the database and indexed through the search index's own function,
 * only when search or mailbox-open is run.
 *
 * Workload push (not autocannon): 1,000 users (written straight into the database) each open one
 * Server-Sent Events stream (GET /users/{id}/events) on the service; then one message goes to each
 * (POST /msg/create/, 16 at a time), and each message's delay from the send's answer to its stream's
 * state event is measured (p50/p99; all 1,000 must arrive, p99 under 1 s). The service's RSS before
 * and after the streams are opened gives the memory an open stream costs.
 *
 * --dataset large: then, on a second new database, 1,000,000 messages over 100,000 users, one of whom
 * received 100,000 (scripts/bench/large-dataset.ts, written in SQL in seconds), and that user's folders,
 * mailbox page, searches (a common and a rare word), changes, and the contract's /msg/list/ at
 * skip=900,000: each under load and alone (one request at a time), beside the small data's figures.
 *
 * --instructions N: the service and the bare server run under `valgrind --tool=callgrind`, and each
 * workload is N requests after 3N of warm-up, the counters zeroed before and dumped after
 * (callgrind_control): instructions per answered request on the main thread (measureInstructions) and
 * their multiple of the bare server's, instead of CPU time. For comparing two builds: `GET /` and a read
 * batch repeated within 2%, where CPU time on a shared virtual machine moved by a quarter within
 * minutes; a create within 10% (how many creates share a commit depends on timing). Not for the
 * targets: callgrind counts user space only, and a request's system calls (a large share of the bare
 * server's cost) are not in it. About 50 times slower, so latencies and req/s mean nothing then. One
 * process only (--workers 1); on PostgreSQL, the service's instructions alone.
 *
 * --database postgres: a database made for the run on the server of BENCH_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test) and dropped at its end. --workers N: WEB_CONCURRENCY=N.
 * --json: one JSON document on stdout (progress goes to stderr). The service's own log goes nowhere
 * (it is still written: that is part of its cost) unless --service-log FILE. --cpu-prof DIR: the
 * service runs under `node --cpu-prof` and writes its profile to DIR when the bench stops it (use
 * --only with one workload; the profile includes warm-up and set-up).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, type ClientRequest, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { type Kysely, sql } from 'kysely';
import { createDatabase } from '../src/db/create-db.js';
import type { Database } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { normalizeEmail } from '../src/email.js';
import { indexUnindexedMessages } from '../src/modules/mailbox/search-index.js';
import { hashPassword } from '../src/modules/users/passwords.js';
import { type BenchDatabase, type BenchDialect, createBenchDatabase } from './bench/databases.js';
import { COMMON_WORD, HEAVY_MESSAGES, HEAVY_USER_ID, LARGE_MESSAGES, LARGE_USERS, type LoadTimings, loadLargeDataset, rareWordOf } from './bench/large-dataset.js';
import { CLOCK_TICKS, cpuMicroseconds, cpuOfEach, cpuSince, processTree, residentMegabytes } from './bench/process-stats.js';

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    'bare-duration': { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
    'sqlite-synchronous': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    database: { type: 'string', default: 'sqlite' },
    workers: { type: 'string', default: '1' },
    dataset: { type: 'string', default: 'small' },
    'service-log': { type: 'string' },
    'cpu-prof': { type: 'string' },
    instructions: { type: 'string' },
  },
});

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

const duration = Number(options.duration);
const warmup = Number(options.warmup);
const bareDuration = Number(options['bare-duration']);
const connections = Number(options.connections);
if (!(duration > 0) || !(bareDuration > 0) || !(warmup >= 0) || !Number.isInteger(connections) || connections < 1) {
  fail('--duration, --bare-duration, --warmup and --connections take positive numbers');
}
if (options.database !== 'sqlite' && options.database !== 'postgres') fail(`--database is sqlite or postgres, got "${options.database}"`);
const dialect: BenchDialect = options.database;
if (!/^(\d+|auto)$/.test(options.workers)) fail(`--workers takes a number or auto, got "${options.workers}"`);
const workers = options.workers === 'auto' ? 'auto' : Number(options.workers);
if (options.dataset !== 'small' && options.dataset !== 'large') fail(`--dataset is small or large, got "${options.dataset}"`);
const large = options.dataset === 'large';
const logLevel = options['log-level'];
/** --instructions N: callgrind counts the instructions of N requests per workload, instead of CPU time over --duration. */
const instructionRequests = options.instructions === undefined ? undefined : Number(options.instructions);
if (instructionRequests !== undefined) {
  if (!Number.isInteger(instructionRequests) || instructionRequests < 100) fail('--instructions takes a number of requests, at least 100');
  if (options.workers !== '1') fail('--instructions measures one process: leave --workers at 1');
  if (options['cpu-prof']) fail('--instructions and --cpu-prof do not go together');
}

/** Progress: stdout, or stderr when stdout is the JSON document's alone. */
const log = (line: string) => {
  if (options.json) console.error(line);
  else console.log(line);
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitUntilUp(url: string, child: ChildProcess): Promise<void> {
  // Under callgrind, starting takes a minute or more.
  const attempts = instructionRequests === undefined ? 300 : 6000;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${url}: the server ended (${child.exitCode ?? child.signalCode}) before it answered`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up`);
}

const BARE_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ Hello: 'World' });
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

/** A response that is not what the workload should answer: a description of the difference. */
type Check = (status: number, body: string) => string | undefined;

interface Workload {
  name: string;
  /** what it requests, for the table */
  label: string;
  path: string;
  method: 'GET' | 'POST' | 'PUT';
  bodies?: string[];
  /** requests rotate over these paths (instead of `path` alone) */
  paths?: string[];
  /** run just before the workload (after the ones before it changed the data); may set `path` */
  prepare?: (workload: Workload) => Promise<void>;
  /** one request before the run must pass it */
  check?: Check;
  /** also time it alone: one request at a time */
  alone?: boolean;
}

/** Milliseconds a request takes with no other request in flight: median and slowest of 20, after one to warm up. */
interface AloneTimes {
  median: number;
  max: number;
}

interface Measurement {
  workload: string;
  label: string;
  requestsPerSecond: number;
  /** responses, of any status */
  answered: number;
  /** the server's CPU time (user + system, all its processes) per answered request, µs; with --instructions, callgrind's instructions */
  cpuUsPerRequest: number;
  /** of which in the kernel (system time: sockets, files), µs */
  systemCpuUsPerRequest: number;
  /** cpuUsPerRequest over the bare server's, in the same run */
  cpuMultiple: number;
  /** the bare server's figure the multiple divides by: the median of the three readings nearest to this workload (CPU time), or of the run's (instructions) */
  bareCpuUsPerRequest?: number;
  /** PostgreSQL: its server processes' CPU time for this database per answered request, µs (null on SQLite: inside the service's) */
  databaseCpuUsPerRequest: number | null;
  /** latency of the 2xx answers, ms */
  p50: number;
  p99: number;
  /** connection errors, timeouts and non-2xx answers */
  errors: number;
  /** largest RSS seen during the run, all the server's processes together */
  rssMb: number;
  /** the server's processes measured (a cluster: primary and workers) */
  processes: number;
  /** a response before the run was not what the workload should answer */
  wrong?: string;
  alone?: AloneTimes;
}

function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

/** Milliseconds to two decimals below 10, one above. */
function roundMs(ms: number): number {
  return ms < 10 ? Math.round(ms * 100) / 100 : Math.round(ms * 10) / 10;
}

/** Drives the workload for `run.seconds`, or for `run.requests` answers; each 2xx response's latency goes into `latencies` (ms), and `answered` counts every response. */
function drive(baseUrl: string, workload: Workload, run: { seconds: number } | { requests: number }, record?: { latencies: number[]; answered: number }): Promise<autocannon.Result> {
  let next = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: baseUrl,
        connections,
        ...('seconds' in run ? { duration: run.seconds } : { amount: run.requests, timeout: 120 }),
        requests: [
          {
            method: workload.method,
            path: workload.path,
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => {
              if (!workload.bodies && !workload.paths) return request;
              const turn = next;
              next += 1;
              return {
                ...request,
                ...(workload.bodies ? { body: workload.bodies[turn % workload.bodies.length] } : {}),
                ...(workload.paths ? { path: workload.paths[turn % workload.paths.length] } : {}),
              };
            },
          },
        ],
      },
      (error: unknown, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    );
    if (record) {
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        record.answered += 1;
        if (statusCode >= 200 && statusCode < 300) record.latencies.push(responseTime);
      });
    }
  });
}

/** One request as the workload sends it, checked. */
async function checkOnce(baseUrl: string, workload: Workload): Promise<string | undefined> {
  if (!workload.check) return undefined;
  const response = await fetchAgainIfClosed(`${baseUrl}${workload.paths?.[0] ?? workload.path}`);
  return workload.check(response.status, await response.text());
}

async function aloneTimes(baseUrl: string, paths: readonly string[]): Promise<AloneTimes> {
  await (await fetchAgainIfClosed(`${baseUrl}${paths[0]}`)).arrayBuffer();
  const times: number[] = [];
  for (let run = 0; run < 20; run += 1) {
    const started = performance.now();
    await (await fetch(`${baseUrl}${paths[run % paths.length]}`)).arrayBuffer();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: roundMs(percentile(times, 0.5)), max: roundMs(times.at(-1)!) };
}

/** PostgreSQL's processes serving `database` and their CPU time so far. */
async function databaseCpu(database: BenchDatabase | undefined): Promise<Map<number, number>> {
  return database?.dialect === 'postgres' ? cpuOfEach(await database.backendPids()) : new Map();
}

async function measure(baseUrl: string, workload: Workload, pid: number, database?: BenchDatabase, seconds = duration): Promise<Omit<Measurement, 'cpuMultiple'>> {
  await workload.prepare?.(workload);
  const wrong = await checkOnce(baseUrl, workload);
  if (wrong) log(`  WRONG: ${workload.name}: ${wrong}`);
  if (instructionRequests !== undefined) return measureInstructions(baseUrl, workload, pid, wrong);
  if (warmup > 0) await drive(baseUrl, workload, { seconds: warmup });
  const record = { latencies: [] as number[], answered: 0 };
  const processes = processTree(pid).length;
  let maxRss = residentMegabytes(pid);
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, residentMegabytes(pid))), 200);
  const databaseBefore = await databaseCpu(database);
  const cpuBefore = cpuMicroseconds(pid);
  const result = await drive(baseUrl, workload, { seconds }, record);
  const cpuAfter = cpuMicroseconds(pid);
  const databaseAfter = await databaseCpu(database);
  clearInterval(sampler);
  const latencies = Float64Array.from(record.latencies).sort();
  const perRequest = (microseconds: number) => (record.answered > 0 ? Math.round((microseconds / record.answered) * 10) / 10 : Number.NaN);
  const alone = workload.alone ? await aloneTimes(baseUrl, workload.paths ?? [workload.path]) : undefined;
  return {
    workload: workload.name,
    label: workload.label,
    requestsPerSecond: Math.round(record.answered / result.duration),
    answered: record.answered,
    cpuUsPerRequest: perRequest(cpuAfter.total - cpuBefore.total),
    systemCpuUsPerRequest: perRequest(cpuAfter.system - cpuBefore.system),
    databaseCpuUsPerRequest: database?.dialect === 'postgres' ? perRequest(cpuSince(databaseBefore, databaseAfter)) : null,
    p50: roundMs(percentile(latencies, 0.5)),
    p99: roundMs(percentile(latencies, 0.99)),
    // autocannon's errors include its timeouts.
    errors: result.errors + result.non2xx,
    rssMb: Math.round(maxRss),
    processes,
    ...(wrong ? { wrong } : {}),
    ...(alone ? { alone } : {}),
  };
}

/**
 * --instructions: the server runs under callgrind (serverCommand). After a warm-up of three times as many
 * requests, its counters are zeroed, the N requests are driven, and the counters dumped: instructions
 * per answered request on the main thread (the event loop, which every request's own work runs on).
 * The other threads (V8's compiler and garbage-collector helpers, SQLite's checkpoint worker) work when
 * their timing says, not per request (their sum is printed beside). The CPU fields then hold that
 * figure too, and the multiples divide instructions by instructions.
 */
async function measureInstructions(baseUrl: string, workload: Workload, pid: number, wrong: string | undefined): Promise<Omit<Measurement, 'cpuMultiple'>> {
  const requests = instructionRequests!;
  // Warm: V8 compiles the hot functions in the background, which under callgrind takes many requests.
  await drive(baseUrl, workload, { requests: INSTRUCTION_WARMUP_TIMES * requests });
  await callgrindControl('-z', pid);
  const record = { latencies: [] as number[], answered: 0 };
  const result = await drive(baseUrl, workload, { requests }, record);
  const instructions = await callgrindControl('-d', pid);
  const latencies = Float64Array.from(record.latencies).sort();
  const perRequest = record.answered > 0 ? Math.round(instructions / record.answered) : Number.NaN;
  return {
    workload: workload.name,
    label: workload.label,
    requestsPerSecond: Math.round(record.answered / result.duration),
    answered: record.answered,
    cpuUsPerRequest: perRequest,
    systemCpuUsPerRequest: Number.NaN,
    databaseCpuUsPerRequest: null,
    p50: roundMs(percentile(latencies, 0.5)),
    p99: roundMs(percentile(latencies, 0.99)),
    errors: result.errors + result.non2xx,
    rssMb: Math.round(residentMegabytes(pid)),
    processes: 1,
    ...(wrong ? { wrong } : {}),
  };
}

/** --instructions: the warm-up, in measured runs (with one, the bare server still counted 300k a request, against 73k later). */
const INSTRUCTION_WARMUP_TIMES = 3;

/** The callgrind output files of a process (the last dump has the highest number). */
let callgrindDir = '';

/** `callgrind_control <command> <pid>`; after a dump (-d), the instructions it counted since the last zeroing. */
async function callgrindControl(command: '-z' | '-d', pid: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    // It says what it sends on stderr: kept for an error only.
    // Valgrind names its control pipes after $HOST, which the service reads as its address: the same here.
    const control = spawn('callgrind_control', [command, String(pid)], { env: { ...process.env, HOST: SERVER_HOST }, stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    control.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
    control.once('error', reject);
    control.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`callgrind_control ${command} ${pid} exited with ${code}: ${said}`))));
  });
  if (command === '-z') return 0;
  // One file per dump and thread: callgrind.<pid>.out.<dump>-<thread>; the main thread is 01.
  const prefix = `callgrind.${pid}.out.`;
  const files = readdirSync(callgrindDir);
  const dumps = files
    .filter((name) => name.startsWith(prefix) && name.endsWith('-01'))
    .map((name) => Number(name.slice(prefix.length, -'-01'.length)))
    .sort((a, b) => a - b);
  const last = dumps.at(-1);
  const count = (thread: string) => /^summary: (\d+)$/m.exec(readFileSync(join(callgrindDir, `${prefix}${last}-${thread}`), 'utf8'))?.[1];
  const main = last === undefined ? undefined : count('01');
  if (main === undefined) throw new Error(`callgrind wrote no dump for ${pid} in ${callgrindDir}`);
  const threads = files.filter((name) => name.startsWith(`${prefix}${last}-`));
  const all = threads.reduce((sum, name) => sum + Number(count(name.slice(`${prefix}${last}-`.length)) ?? 0), 0);
  log(`  callgrind: ${main} instructions on the main thread, ${all} in all ${threads.length} threads`);
  return Number(main);
}

/** Where the servers listen (the service reads it from HOST). */
const SERVER_HOST = '127.0.0.1';

/** How a server process is started: as it is, or under callgrind (--instructions). */
function serverCommand(args: string[]): [string, string[]] {
  if (instructionRequests === undefined) return [process.execPath, args];
  return ['valgrind', ['-q', '--tool=callgrind', '--separate-threads=yes', `--callgrind-out-file=${join(callgrindDir, 'callgrind.%p.out')}`, process.execPath, ...args]];
}

async function post(baseUrl: string, path: string, body: unknown): Promise<{ id: number }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`seeding ${path} failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: number };
}

async function seed(baseUrl: string) {
  const users: { id: number }[] = [];
  for (let index = 0; index < 20; index += 1) users.push(await post(baseUrl, '/users/', { email: `bench${index}@example.com`, password: 'bench-password' }));
  const messageIds: number[] = [];
  // 2,000 messages from 10 senders to 10 recipients, sent 16 at a time.
  const sends = Array.from({ length: 2000 }, (_, index) => ({
    from_userid: users[index % 10]!.id,
    to_userid: users[10 + ((index >> 3) % 10)]!.id,
    subject: `Seed ${index}`,
    message: 'A message body of ordinary length for the benchmark.',
  }));
  for (let start = 0; start < sends.length; start += 16) {
    const created = await Promise.all(sends.slice(start, start + 16).map((body) => post(baseUrl, '/msg/create/', body)));
    messageIds.push(...created.map((message) => message.id));
  }
  const batches = Array.from({ length: messageIds.length / 10 }, (_, index) => messageIds.slice(index * 10, index * 10 + 10));
  // One mailbox of 10,000 messages for the folder view.
  const heavy = users[19]!.id;
  const mail = Array.from({ length: 10_000 }, (_, index) => ({ from_userid: users[index % 10]!.id, to_userid: heavy, subject: `Mail ${index}`, message: 'Hello' }));
  for (let start = 0; start < mail.length; start += 32) {
    await Promise.all(mail.slice(start, start + 32).map((body) => post(baseUrl, '/msg/create/', body)));
  }
  return { users, batches, heavy };
}

/** The search workload's mailbox: one user who received this many messages. */
const SEARCH_MAILBOX_SIZE = 100_000;
const PSEUDO_WORDS = 2000;

/** mulberry32: a small seeded generator, so every run searches the same corpus. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Real words among the pseudo-words, some with accents (searched without them), the first
 * FUNCTION_WORDS the commonest of all. One run of letters each.
 */
const FUNCTION_WORDS = 10;
const REAL_WORDS = (
  'the and for you with this that have from about meeting lunch tomorrow project report budget invoice ' +
  'please thanks hello again today friday monday weekend holiday office update review draft contract ' +
  'schedule call question answer garden coffee dinner ticket travel flight hotel payment receipt order ' +
  'delivery package account password security team manager client customer launch release feature ' +
  'design figures quarterly summary agenda minutes notes photo photos birthday party family school ' +
  'concert music movie book library weather rain sunny winter summer spring autumn train station ' +
  'café réunion crème brûlée naïve résumé déjà façade fiancée élève über straße año niño çava ' +
  'zebrafish kangaroo'
).split(' ');

/** The form search matches a word by: lower case, accents dropped (as the service reads text). */
function searchKey(word: string): string {
  return word.toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '');
}

interface SearchCorpus {
  /** the vocabulary, most frequent first */
  words: string[];
  keys: string[];
  messages: { subject: string; message: string; wordIds: Int32Array }[];
  /** per word: how many messages hold it */
  documents: Int32Array;
}

/**
 * 100,000 messages of words drawn from ~2,000 pseudo-words and some real words with a Zipf law
 * (frequency ∝ 1/rank): a few words are in most messages, many in a handful.
 */
function searchCorpus(): SearchCorpus {
  const random = seededRandom(14);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const realKeys = new Set(REAL_WORDS.map(searchKey));
  const onsets = ['b', 'br', 'c', 'ch', 'd', 'dr', 'f', 'g', 'gr', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'pl', 'qu', 'r', 's', 'st', 't', 'tr', 'v', 'w', 'z'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou', 'y'];
  const codas = ['', '', '', 'n', 'r', 's', 'l', 'nd', 'st', 'x'];
  const pseudo = new Set<string>();
  while (pseudo.size < PSEUDO_WORDS) {
    const syllables = 2 + Math.floor(random() * 3);
    let word = '';
    for (let index = 0; index < syllables; index += 1) word += pick(onsets) + pick(vowels) + (index === syllables - 1 ? pick(codas) : '');
    if (!realKeys.has(word)) pseudo.add(word);
  }
  // The commonest real words first, as in any text; the other real words and the pseudo-words shuffled
  // together after them, so each kind lands at every frequency.
  const words = [...REAL_WORDS.slice(0, FUNCTION_WORDS), ...REAL_WORDS.slice(FUNCTION_WORDS), ...pseudo];
  for (let index = words.length - 1; index > FUNCTION_WORDS; index -= 1) {
    const other = FUNCTION_WORDS + Math.floor(random() * (index - FUNCTION_WORDS + 1));
    [words[index], words[other]] = [words[other]!, words[index]!];
  }
  const keys = words.map(searchKey);
  // Zipf (1/rank) for the first 200 words, falling faster after them: the rarest words are in a
  // handful of messages, the first few in nearly all.
  const cumulative = new Float64Array(words.length);
  let total = 0;
  for (let rank = 0; rank < words.length; rank += 1) cumulative[rank] = total += (1 / (rank + 1)) * Math.min(1, (200 / (rank + 1)) ** 2);
  const drawWord = (): number => {
    const target = random() * total;
    let low = 0;
    let high = words.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cumulative[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
  const documents = new Int32Array(words.length);
  const messages: SearchCorpus['messages'] = [];
  for (let count = 0; count < SEARCH_MAILBOX_SIZE; count += 1) {
    const used = new Set<number>();
    const draw = () => {
      const id = drawWord();
      used.add(id);
      return words[id]!;
    };
    const subjectWords = Array.from({ length: 2 + Math.floor(random() * 6) }, draw);
    const subject = (random() < 0.15 ? 'Re: ' : '') + capitalized(subjectWords.join(' ')) + (random() < 0.2 ? '?' : '');
    const sentences: string[] = [];
    const sentenceCount = 1 + Math.floor(random() * 6);
    for (let index = 0; index < sentenceCount; index += 1) {
      const sentence = Array.from({ length: 4 + Math.floor(random() * 12) }, draw);
      if (sentence.length > 6 && random() < 0.4) sentence[3] += ',';
      sentences.push(capitalized(sentence.join(' ')) + pick(['.', '.', '.', '?', '!']));
    }
    const wordIds = Int32Array.from(used);
    for (const id of wordIds) documents[id]! += 1;
    messages.push({ subject, message: sentences.join(' '), wordIds });
  }
  return { words, keys, messages, documents };
}

/** How many messages of the corpus a search matches: every word, the last as a prefix. */
function countMatches(corpus: SearchCorpus, query: string): number {
  const terms = query.split(' ').map(searchKey);
  const masks = terms.map((term, index) => corpus.keys.map((key) => (index === terms.length - 1 ? key.startsWith(term) : key === term)));
  return corpus.messages.filter(({ wordIds }) => masks.every((mask) => wordIds.some((id) => mask[id]))).length;
}

/** The rotating searches: rare words, common words, two words, and a word with a 2-3 letter prefix last. */
function searchQueries(corpus: SearchCorpus): { kind: string; query: string; matches: number }[] {
  const byDocuments = corpus.words.map((_, id) => id).sort((a, b) => corpus.documents[b]! - corpus.documents[a]!);
  const within = (low: number, high: number) => byDocuments.filter((id) => corpus.documents[id]! >= low && corpus.documents[id]! <= high);
  const word = (id: number) => corpus.words[id]!;
  // Rare: the words nearest to being in 3, 10, 30 and 100 messages; the four commonest; words in 0.5-5% of the messages.
  const rare: number[] = [];
  for (const target of [3, 10, 30, 100]) {
    const distance = (id: number) => Math.abs(corpus.documents[id]! - target);
    rare.push(byDocuments.filter((id) => !rare.includes(id)).reduce((best, id) => (distance(id) < distance(best) ? id : best)));
  }
  const common = byDocuments.slice(0, 4);
  const medium = within(SEARCH_MAILBOX_SIZE / 200, SEARCH_MAILBOX_SIZE / 20);
  const some = (index: number) => word(medium[index % medium.length]!);
  const queries = [
    ...rare.map((id) => ({ kind: 'rare word', query: word(id) })),
    ...common.map((id) => ({ kind: 'common word', query: word(id) })),
    ...[0, 1, 2, 3].map((index) => ({ kind: 'two words', query: `${word(common[index]!)} ${some(index * 7)}` })),
    ...[0, 1, 2, 3].map((index) => ({
      kind: 'word and prefix',
      query: `${some(index * 5 + 2)} ${corpus.keys[byDocuments[index * 40 + 10]!]!.slice(0, 2 + (index % 2))}`,
    })),
  ];
  return queries.map((entry) => ({ ...entry, matches: countMatches(corpus, entry.query) }));
}

/**
 * The search mailbox: a user (made through the API) receives 100,000 messages from the 10 seeded
 * senders, written straight into the database in one transaction, then added to the full-text index
 * by the function the service's migration uses for messages stored without it, and counted in the
 * kept folder counts by the service's rebuild.
 */
async function loadSearchMailbox(baseUrl: string, databaseUrl: string, senders: number[], corpus: SearchCorpus): Promise<number> {
  const reader = await post(baseUrl, '/users/', { email: 'search@example.com', password: 'bench-password' });
  const { db } = createDatabase(databaseUrl, { timeoutMs: 60_000 });
  try {
    const started = Date.now();
    // A message a minute, the newest a minute ago; 85% inbox, 8% trash, 7% spam; 30% unread.
    const firstAt = started - SEARCH_MAILBOX_SIZE * 60_000;
    const random = seededRandom(41);
    const rows = corpus.messages.map((text, index) => {
      const draw = random();
      return {
        from_userid: senders[index % senders.length]!,
        to_userid: reader.id,
        subject: text.subject,
        message: text.message,
        folder: draw < 0.85 ? ('inbox' as const) : draw < 0.93 ? ('trash' as const) : ('spam' as const),
        unread: random() < 0.3 ? ('Y' as const) : ('N' as const),
        created_at: firstAt + index * 60_000,
      };
    });
    await db.transaction().execute(async (trx) => {
      for (let start = 0; start < rows.length; start += 500) await trx.insertInto('messages').values(rows.slice(start, start + 500)).execute();
    });
    const stored = Date.now();
    const indexed = await db.transaction().execute((trx) => indexUnindexedMessages(trx));
    const countedAt = Date.now();
    const rebuild = await findCountsRebuild();
    await rebuild?.(db);
    log(
      `  ${rows.length} messages stored in ${((stored - started) / 1000).toFixed(1)} s, ${indexed} indexed in ${((countedAt - stored) / 1000).toFixed(1)} s, ` +
        (rebuild ? `folder counts rebuilt in ${((Date.now() - countedAt) / 1000).toFixed(1)} s` : 'folder counts NOT rebuilt (no rebuild function found)'),
    );
  } finally {
    await db.destroy();
  }
  return reader.id;
}

/**
 * fetch, once more if the connection was closed under it: loading the mailbox keeps this process busy
 * past the service's keep-alive timeout, so the pooled connection it reuses next may be gone.
 */
async function fetchAgainIfClosed(url: string): Promise<Response> {
  try {
    return await fetch(url);
  } catch {
    return fetch(url);
  }
}

interface SearchCheck {
  kind: string;
  query: string;
  matches: number;
  /** answered as many messages as the corpus says (at most the page) */
  correct: boolean;
  alone: AloneTimes;
}

/**
 * Each search answers 200 with as many messages as the corpus says (at most the page), or it is marked
 * wrong; and how long each takes alone (one request at a time, after a first one to warm up).
 */
async function checkSearches(baseUrl: string, reader: number, queries: { kind: string; query: string; matches: number }[]): Promise<SearchCheck[]> {
  const checks: SearchCheck[] = [];
  for (const { kind, query, matches } of queries) {
    const url = `${baseUrl}${searchPath(reader, query)}`;
    const response = await fetchAgainIfClosed(url);
    const body = response.ok ? ((await response.json()) as { messages: unknown[] }) : undefined;
    const expected = Math.min(matches, 50);
    const correct = body?.messages.length === expected;
    const alone = await aloneTimes(baseUrl, [searchPath(reader, query)]);
    const timing = `alone: median ${alone.median.toFixed(1)} ms, slowest ${alone.max.toFixed(1)} ms`;
    const verdict = correct ? '' : `; WRONG: answered ${response.status} with ${body?.messages.length ?? 'no'} messages, expected ${expected}`;
    log(`  ${kind.padEnd(15)} q=${JSON.stringify(query).padEnd(20)} ${String(matches).padStart(6)} matches, ${timing}${verdict}`);
    checks.push({ kind, query, matches, correct, alone });
  }
  return checks;
}

function searchPath(reader: number, query: string): string {
  return `/users/${reader}/messages?q=${encodeURIComponent(query)}&limit=50`;
}

/** The push workload: this many users, each with one open stream and one message. */
const PUSH_STREAMS = 1000;
const PUSH_SENDS_AT_ONCE = 16;
const PUSH_OPENS_AT_ONCE = 50;
/** the issue's bound on a message's way to its stream (p99) */
const PUSH_P99_GOAL_MS = 1000;
/** how long the last events may take after the last send before they count as lost */
const PUSH_WAIT_MS = 10_000;

interface PushMeasurement {
  streams: number;
  received: number;
  sendErrors: number;
  /** delay from a send's answer to its stream's event (ms); an event ahead of the answer counts 0 */
  p50: number;
  p99: number;
  max: number;
  /** events that came before their send's answer was read */
  aheadOfAnswer: number;
  sendsPerSecond: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  kbPerStream: number;
}

/** One open event stream of the push workload: its first state, and when the next one came. */
interface PushStream {
  request: ClientRequest;
  firstState: string | undefined;
  nextAt: number | undefined;
}

/** The push workload's users, written straight into the database with a seeded user's password hash. */
async function insertPushUsers(databaseUrl: string, count: number): Promise<number[]> {
  const { db } = createDatabase(databaseUrl, { timeoutMs: 60_000 });
  try {
    const { hashed_password } = await db.selectFrom('users').select('hashed_password').where('email_key', '=', 'bench0@example.com').executeTakeFirstOrThrow();
    const emails = Array.from({ length: count }, (_, index) => `push${index}@example.com`);
    const ids: number[] = [];
    await db.transaction().execute(async (trx) => {
      for (let start = 0; start < emails.length; start += 200) {
        const rows = emails.slice(start, start + 200).map((email) => ({ email, email_key: normalizeEmail(email), hashed_password }));
        ids.push(...(await trx.insertInto('users').values(rows).returning('id').execute()).map((row) => row.id));
      }
    });
    return ids;
  } finally {
    await db.destroy();
  }
}

/** Opens a stream and resolves once its first state event is in; later state events set `nextAt`. */
function openPushStream(baseUrl: string, userId: number, agent: Agent): Promise<PushStream> {
  return new Promise((resolve, reject) => {
    const stream: PushStream = { request: httpRequest(`${baseUrl}/users/${userId}/events`, { agent }), firstState: undefined, nextAt: undefined };
    stream.request.on('error', reject);
    stream.request.once('response', (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`GET /users/${userId}/events answered ${response.statusCode}`));
        response.resume();
        return;
      }
      response.setEncoding('utf8');
      let pending = '';
      response.on('data', (chunk: string) => {
        const arrivedAt = performance.now();
        pending += chunk;
        const blocks = pending.split('\n\n');
        pending = blocks.pop() ?? '';
        for (const block of blocks) {
          const lines = block.split('\n');
          if (!lines.includes('event: state')) continue;
          const data = lines.find((line) => line.startsWith('data: '));
          const state = data === undefined ? undefined : (JSON.parse(data.slice(6)) as { state: string }).state;
          if (stream.firstState === undefined) {
            stream.firstState = state;
            resolve(stream);
          } else if (state !== stream.firstState) {
            stream.nextAt ??= arrivedAt;
          }
        }
      });
      response.on('error', () => {});
    });
    stream.request.end();
  });
}

/** The service's RSS once it has settled (the lowest of a few samples a quarter second apart). */
async function settledRss(pid: number): Promise<number> {
  let lowest = Number.POSITIVE_INFINITY;
  for (let sample = 0; sample < 8; sample += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    lowest = Math.min(lowest, residentMegabytes(pid));
  }
  return lowest;
}


async function measurePush(baseUrl: string, databaseUrl: string, pid: number, senderId: number): Promise<PushMeasurement> {
  const userIds = await insertPushUsers(databaseUrl, PUSH_STREAMS);
  const rssBeforeMb = await settledRss(pid);
  // Its own sockets, one per stream, none pooled or reused: the global agent's limits do not apply.
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const streams: PushStream[] = [];
  try {
    for (let start = 0; start < userIds.length; start += PUSH_OPENS_AT_ONCE) {
      streams.push(...(await Promise.all(userIds.slice(start, start + PUSH_OPENS_AT_ONCE).map((userId) => openPushStream(baseUrl, userId, agent)))));
    }
    const rssAfterMb = await settledRss(pid);
    log(`  ${streams.length} streams open; service RSS ${rssBeforeMb.toFixed(1)} MB before, ${rssAfterMb.toFixed(1)} MB with them`);

    const answeredAt: number[] = new Array<number>(userIds.length);
    let sendErrors = 0;
    let next = 0;
    const sendsStarted = performance.now();
    const sender = async () => {
      for (let index = next++; index < userIds.length; index = next++) {
        const response = await fetch(`${baseUrl}/msg/create/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ from_userid: senderId, to_userid: userIds[index], subject: 'Push', message: 'A message for the push benchmark.' }),
        });
        await response.arrayBuffer();
        answeredAt[index] = performance.now();
        if (!response.ok) sendErrors += 1;
      }
    };
    await Promise.all(Array.from({ length: PUSH_SENDS_AT_ONCE }, sender));
    const sendSeconds = (performance.now() - sendsStarted) / 1000;
    const deadline = performance.now() + PUSH_WAIT_MS;
    while (streams.some((stream) => stream.nextAt === undefined) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const delays: number[] = [];
    let aheadOfAnswer = 0;
    streams.forEach((stream, index) => {
      if (stream.nextAt === undefined || answeredAt[index] === undefined) return;
      const delay = stream.nextAt - answeredAt[index];
      if (delay < 0) aheadOfAnswer += 1;
      delays.push(Math.max(0, delay));
    });
    delays.sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      streams: streams.length,
      received: delays.length,
      sendErrors,
      p50: round(percentile(delays, 0.5)),
      p99: round(percentile(delays, 0.99)),
      max: round(delays.at(-1) ?? Number.NaN),
      aheadOfAnswer,
      sendsPerSecond: Math.round(userIds.length / sendSeconds),
      rssBeforeMb: round(rssBeforeMb),
      rssAfterMb: round(rssAfterMb),
      kbPerStream: round(((rssAfterMb - rssBeforeMb) * 1024) / Math.max(1, streams.length)),
    };
  } finally {
    for (const stream of streams) stream.request.destroy();
    agent.destroy();
  }
}

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const KEY_PREFIX = `bench:${process.pid}:`;

/** Removes the counters and rate-limit keys this run wrote, and nothing else. */
async function deleteBenchKeys(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // no Redis: nothing was written
  } finally {
    redis.disconnect();
  }
}


/** The service's rebuild of its kept folder counts, wherever it is (found at run time: src/ is changing under this file). */
type CountsRebuild = (db: Kysely<Database>) => Promise<unknown>;
const COUNTS_REBUILDS: readonly [string, string][] = [
  ['../src/modules/mailbox/folder-counts.repository.js', 'rebuildFolderCounts'],
  ['../src/modules/mailbox/mailbox-changes.repository.js', 'rebuildMailboxCounts'],
];
let countsRebuild: Promise<CountsRebuild | undefined> | undefined;

/**
 * FOLDER COUNTS: the rebuild that makes the kept counts agree with messages written straight into the
 * database (the search mailbox, the large data set). Undefined when the service has none (it counted
 * on every call before issue 17): the loads then say "NOT rebuilt".
 */
function findCountsRebuild(): Promise<CountsRebuild | undefined> {
  countsRebuild ??= (async () => {
    for (const [specifier, name] of COUNTS_REBUILDS) {
      try {
        const module = (await import(specifier)) as Record<string, unknown>;
        if (typeof module[name] === 'function') return module[name] as CountsRebuild;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
      }
    }
    return undefined;
  })();
  return countsRebuild;
}

/** Every server this run started, stopped at its end whatever happens. */
const children = new Set<ChildProcess>();

interface Service {
  child: ChildProcess;
  url: string;
  pid: number;
}

const expectedWorkers = workers === 'auto' ? cpus().length : workers;

/** A cluster's workers start after the primary answers through the first of them: wait for all (or say they never came). */
async function waitForWorkers(pid: number): Promise<void> {
  if (expectedWorkers <= 1) return;
  const deadline = performance.now() + 15_000;
  while (processTree(pid).length - 1 < expectedWorkers && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const running = processTree(pid).length - 1;
  if (running < expectedWorkers) log(`  WEB_CONCURRENCY=${workers}, but the service runs ${running} worker process(es) under its primary: measured as it is`);
  else await new Promise((resolve) => setTimeout(resolve, 1000));
}

async function startService(database: BenchDatabase, keyPrefix: string): Promise<Service> {
  const port = await freePort();
  const logFile = options['service-log'] ? openSync(options['service-log'], 'a') : undefined;
  // As `npm start` runs it (package.json); --cpu-prof DIR: each process writes its profile there when it exits.
  const profile = options['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${options['cpu-prof']}`] : [];
  const child = spawn(...serverCommand([...profile, '--max-semi-space-size=4', 'dist/server.js']), {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: SERVER_HOST,
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: keyPrefix,
      LOG_LEVEL: logLevel,
      WEB_CONCURRENCY: String(workers),
      // The contract's anonymous mode: the bench sends no tokens.
      AUTH_MODE: 'off',
      // The benchmark measures the service, not its abuse limits (one sender sends thousands a second).
      RATE_LIMITS: 'off',
      RATE_LIMIT_MESSAGES_PER_MINUTE: '0',
      RATE_LIMIT_SIGNUP_PER_MINUTE: '0',
      RATE_LIMIT_LOGIN_PER_ADDRESS: '0',
      RATE_LIMIT_LOGIN_PER_ACCOUNT_ADDRESS: '0',
      RATE_LIMIT_LOGIN_PER_ACCOUNT: '0',
      ...(options['sqlite-synchronous'] ? { SQLITE_SYNCHRONOUS: options['sqlite-synchronous'] } : {}),
    },
    // Its log is written (part of what a request costs) but goes nowhere, unless --service-log.
    stdio: ['ignore', logFile ?? 'ignore', 'inherit'],
  });
  if (logFile !== undefined) closeSync(logFile);
  children.add(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(url, child);
  await waitForWorkers(child.pid!);
  return { child, url, pid: child.pid! };
}

async function stopService(service: Service): Promise<void> {
  const { child } = service;
  if (child.exitCode === null && child.signalCode === null) {
    const tree = processTree(service.pid);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const pid of tree) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }, 15_000);
    await exited;
    clearTimeout(timer);
  }
  children.delete(child);
}

/** How many changes behind the changes workload's state is. */
const CHANGES_BEHIND = 5;

/**
 * GET /users/{id}/changes?since=…&limit=100 with the state of a listing read just before the run, then
 * CHANGES_BEHIND messages sent to the user: what a client that was away for a moment asks.
 */
function changesWorkload(baseUrl: string, userId: number, senderId: number, alone: boolean): Workload {
  return {
    name: 'changes',
    label: `changes (GET /users/{id}/changes?since=…&limit=100, ${CHANGES_BEHIND} changes behind)`,
    method: 'GET',
    path: '',
    alone,
    async prepare(workload) {
      const listing = await fetchAgainIfClosed(`${baseUrl}/users/${userId}/messages?limit=1`);
      if (!listing.ok) throw new Error(`GET /users/${userId}/messages answered ${listing.status}`);
      const { state } = (await listing.json()) as { state: string };
      for (let index = 0; index < CHANGES_BEHIND; index += 1) {
        await post(baseUrl, '/msg/create/', { from_userid: senderId, to_userid: userId, subject: 'Changes', message: 'One of the changes the changes workload reads.' });
      }
      workload.path = `/users/${userId}/changes?since=${encodeURIComponent(state)}&limit=100`;
    },
    check(status, body) {
      if (status !== 200) return `answered ${status}: ${body.slice(0, 200)}`;
      const answer = JSON.parse(body) as { created: number[]; updated: number[]; destroyed: number[] };
      const told = answer.created.length + answer.updated.length + answer.destroyed.length;
      return answer.created.length === CHANGES_BEHIND && told === CHANGES_BEHIND ? undefined : `told ${answer.created.length} created, ${told} in all; expected ${CHANGES_BEHIND} created`;
    },
  };
}

/** A 200 whose JSON has `count` items (in `messages`, or the array itself). */
function expectItems(count: number, more?: (items: { id: number }[]) => string | undefined): Check {
  return (status, body) => {
    if (status !== 200) return `answered ${status}: ${body.slice(0, 200)}`;
    const parsed = JSON.parse(body) as { messages?: { id: number }[] } | { id: number }[];
    const items = Array.isArray(parsed) ? parsed : (parsed.messages ?? []);
    if (items.length !== count) return `answered ${items.length} items, expected ${count}`;
    return more?.(items);
  };
}

/** The heavy user's mailbox as the database holds it after loading, to check the service's answers against. */
interface LargeExpectations {
  folders: { folder: string; total: number; unread: number }[];
  rareWord: string;
  rareMatches: number;
}

async function largeExpectations(db: Kysely<Database>): Promise<LargeExpectations> {
  const rows = await db
    .selectFrom('messages')
    .select((eb) => ['folder', 'unread', eb.fn.countAll<number>().as('count')])
    .where('to_userid', '=', HEAVY_USER_ID)
    .groupBy(['folder', 'unread'])
    .execute();
  const count = (folder: string, unread?: 'Y') =>
    rows.filter((row) => row.folder === folder && (unread === undefined || row.unread === unread)).reduce((sum, row) => sum + Number(row.count), 0);
  const folders = ['inbox', 'trash', 'spam'].map((folder) => ({ folder, total: count(folder), unread: count(folder, 'Y') }));
  // The rare word of the user's newest message but one: in a handful of their messages (search matches it as a prefix; no longer word starts with it).
  const rareWord = await rareWordOf(db, LARGE_MESSAGES - 10);
  const matched = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('to_userid', '=', HEAVY_USER_ID)
    .where(sql<string>`' ' || subject || ' ' || message`, 'like', `% ${rareWord}%`)
    .executeTakeFirstOrThrow();
  return { folders: [...folders, { folder: 'sent', total: 0, unread: 0 }], rareWord, rareMatches: Number(matched.count) };
}

/** The large data set's workloads, all on its heavy user, and the small data's workload each is compared with. */
function largeWorkloads(baseUrl: string, expected: LargeExpectations): { workload: Workload; small: string }[] {
  const heavy = HEAVY_USER_ID;
  const foldersCheck: Check = (status, body) => {
    if (status !== 200) return `answered ${status}: ${body.slice(0, 200)}`;
    const answer = JSON.stringify(JSON.parse(body));
    return answer === JSON.stringify(expected.folders) ? undefined : `answered ${answer}, the messages say ${JSON.stringify(expected.folders)}`;
  };
  return [
    { small: 'folders', workload: { name: 'folders', label: 'folders (GET /users/{id}/folders)', method: 'GET', path: `/users/${heavy}/folders`, check: foldersCheck, alone: true } },
    {
      small: 'folder',
      workload: { name: 'folder', label: 'folder (GET /users/{id}/messages?limit=50)', method: 'GET', path: `/users/${heavy}/messages?limit=50`, check: expectItems(50), alone: true },
    },
    {
      small: 'search',
      workload: {
        name: 'search-common',
        label: `search-common (q=${COMMON_WORD}: in about 2/3 of the messages)`,
        method: 'GET',
        path: searchPath(heavy, COMMON_WORD),
        check: expectItems(50),
        alone: true,
      },
    },
    {
      small: 'search',
      workload: {
        name: 'search-rare',
        label: `search-rare (q=${expected.rareWord}: in ${expected.rareMatches} of the user's messages)`,
        method: 'GET',
        path: searchPath(heavy, expected.rareWord),
        check: expectItems(Math.min(50, expected.rareMatches)),
        alone: true,
      },
    },
    { small: 'changes', workload: changesWorkload(baseUrl, heavy, heavy + 1, true) },
    {
      small: 'list',
      workload: {
        name: 'list-deep',
        label: 'list-deep (GET /msg/list/?skip=900000&limit=10)',
        method: 'GET',
        path: '/msg/list/?skip=900000&limit=10',
        check: expectItems(10, (items) => (items[0]?.id === 900_001 ? undefined : `the first is ${items[0]?.id}, expected 900001`)),
        alone: true,
      },
    },
  ];
}

const SMALL_NAMES = ['hello', 'create', 'list', 'read', 'spam', 'folder', 'folders', 'changes', 'search', 'mailbox-open', 'push'];
const LARGE_NAMES = ['folders', 'folder', 'search-common', 'search-rare', 'changes', 'list-deep'];

/** What the cost columns hold: CPU time, or callgrind's instructions (--instructions). */
const UNIT = instructionRequests === undefined ? 'µs' : 'instructions';
const COST_HEADER = instructionRequests === undefined ? 'CPU µs/req' : 'instructions/req';
const MULTIPLE_HEADER = instructionRequests === undefined ? '× bare CPU' : '× bare instructions';
/** The bare server's figure each multiple divides by: the median of the readings nearest to the workload, or the run's median (instructions). */
const BARE_HEADER = instructionRequests === undefined ? 'bare µs/req beside it' : 'bare instructions/req';

/** The issue's bounds on CPU per request, as a multiple of the bare server's. */
const CPU_TARGETS: Record<string, number> = { list: 4, read: 5, create: 6, spam: 8 };
const P99_BOUND_MS = 25;
const RSS_AFTER_START_BOUND_MB = 120;

interface TargetCheck {
  workload: string;
  cpuMultiple: number;
  target: number;
  met: boolean;
}

function targetChecks(results: Measurement[]): { targets: TargetCheck[]; worst: (Omit<TargetCheck, 'target' | 'met'> & { target: number | null }) | undefined } {
  const targets = Object.entries(CPU_TARGETS).flatMap(([workload, target]) => {
    const row = results.find((result) => result.workload === workload);
    return row ? [{ workload, cpuMultiple: row.cpuMultiple, target, met: row.cpuMultiple <= target }] : [];
  });
  // The worst against its target; without any targeted workload, the highest multiple.
  const worstTargeted = targets.reduce<TargetCheck | undefined>((worst, row) => (!worst || row.cpuMultiple / row.target > worst.cpuMultiple / worst.target ? row : worst), undefined);
  if (worstTargeted) return { targets, worst: { workload: worstTargeted.workload, cpuMultiple: worstTargeted.cpuMultiple, target: worstTargeted.target } };
  const highest = results.reduce<Measurement | undefined>((worst, row) => (!worst || row.cpuMultiple > worst.cpuMultiple ? row : worst), undefined);
  return { targets, worst: highest ? { workload: highest.workload, cpuMultiple: highest.cpuMultiple, target: null } : undefined };
}

const DIALECT_NAMES: Record<BenchDialect, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round(((sorted[middle - 1]! + sorted[middle]!) / 2) * 10) / 10;
}

function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

async function main() {
  const date = new Date();
  const scratch = mkdtempSync(join(tmpdir(), 'inbox-bench-'));
  callgrindDir = scratch;
  const databases: BenchDatabase[] = [];
  const services: Service[] = [];
  const stopAll = () => children.forEach((child) => child.kill('SIGTERM'));
  process.on('exit', stopAll);
  let cleaned: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaned ??= (async () => {
      await Promise.all(services.map(stopService));
      const exited = [...children].map((child) =>
        child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined,
      );
      stopAll();
      // A server under callgrind writes its last dump into the scratch folder as it exits.
      await Promise.race([Promise.all(exited), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      for (const database of databases) await database.drop().catch((error: unknown) => console.error(`bench: could not drop ${database.label}: ${String(error)}`));
      rmSync(scratch, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      await deleteBenchKeys();
    })());
  process.once('SIGINT', () => {
    console.error('bench: interrupted, cleaning up …');
    void cleanUp().finally(() => process.exit(130));
  });

  const selectedNames = options.only?.split(',').map((name) => name.trim()).filter(Boolean);
  const known = new Set([...SMALL_NAMES, ...LARGE_NAMES]);
  const unknown = selectedNames?.filter((name) => !known.has(name)) ?? [];
  if (unknown.length > 0) fail(`--only: no workload ${unknown.join(', ')}; there are ${[...known].join(', ')}`);
  const largeOnly = selectedNames?.filter((name) => !SMALL_NAMES.includes(name)) ?? [];
  if (!large && largeOnly.length > 0) fail(`--only ${largeOnly.join(',')}: those run with --dataset large`);
  const runs = (name: string) => !selectedNames || selectedNames.includes(name);

  try {
    const barePort = await freePort();
    const bare = spawn(...serverCommand(['-e', BARE_SERVER]), { env: { ...process.env, PORT: String(barePort), HOST: SERVER_HOST }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.add(bare);
    const bareUrl = `http://127.0.0.1:${barePort}`;
    await waitUntilUp(bareUrl, bare);
    log(
      `${DIALECT_NAMES[dialect]}, WEB_CONCURRENCY=${workers}, LOG_LEVEL=${logLevel}, ${connections} connections, ` +
        (instructionRequests === undefined
          ? `${duration} s per workload after ${warmup} s of warm-up; CPU from /proc (${CLOCK_TICKS} ticks/s)`
          : `${instructionRequests} requests per workload after ${INSTRUCTION_WARMUP_TIMES * instructionRequests} of warm-up; instructions counted by callgrind`),
    );
    // CPU time: the bare server is measured before each workload and after the last, and each multiple
    // divides by the readings nearest to its workload (see the top). Instructions are repeatable: the bare
    // server is measured before the workloads and after them, and the multiples divide by the median.
    const paired = instructionRequests === undefined;
    const bareWorkload: Workload = { name: 'bare', label: 'bare `node:http`', method: 'GET', path: '/' };
    /** A measurement before its multiple; bareIndex: paired, the bare reading taken just before it (in bareRuns). */
    type Raw = Omit<Measurement, 'cpuMultiple'> & { bareIndex?: number };
    const bareRuns: Raw[] = [];
    const measureBare = async (when: string): Promise<Raw> => {
      log(`bare node:http (${when}) …`);
      const run = await measure(bareUrl, bareWorkload, bare.pid!, undefined, paired ? bareDuration : duration);
      bareRuns.push(run);
      return run;
    };
    /** A workload, with a bare reading just before it when they are paired. */
    const measureWorkload = async (url: string, workload: Workload, pid: number, database: BenchDatabase): Promise<Raw> => {
      if (paired) await measureBare(`before ${workload.name}`);
      log(`${workload.name} …`);
      const measured = await measure(url, workload, pid, database);
      return paired ? { ...measured, bareIndex: bareRuns.length - 1 } : measured;
    };
    /**
     * The bare figure a paired workload's multiple divides by: the median of the three readings nearest
     * to it (the two that bracket it and the one before those, or after them for the first workload), so
     * it follows the machine's drift while one stray reading (seen: 82 µs among readings of 51-61) moves it little.
     */
    const bareBeside = (index: number): number => {
      const nearest = [index - 1, index, index + 1, index + 2].filter((at) => at >= 0 && at < bareRuns.length).slice(0, 3);
      return median(nearest.map((at) => bareRuns[at]!.cpuUsPerRequest));
    };
    if (!paired) await measureBare('before the workloads');

    const rawResults: Raw[] = [];
    let push: PushMeasurement | undefined;
    let searches: SearchCheck[] = [];
    let rssAfterStartMb: number | undefined;
    if (SMALL_NAMES.some(runs)) {
      const database = await createBenchDatabase(dialect, 'small', scratch);
      databases.push(database);
      const service = await startService(database, KEY_PREFIX);
      services.push(service);
      rssAfterStartMb = Math.round(await settledRss(service.pid));
      log(`seeding ${service.url} (${database.label}) …`);
      const { users, batches, heavy } = await seed(service.url);

      // The 100,000-message mailbox, only when a workload reads it (it takes a while to load).
      let reader: number | undefined;
      if (runs('search') || runs('mailbox-open')) {
        log(`loading a mailbox of ${SEARCH_MAILBOX_SIZE} messages …`);
        const corpus = searchCorpus();
        reader = await loadSearchMailbox(
          service.url,
          database.url,
          users.slice(0, 10).map((user) => user.id),
          corpus,
        );
        log('search queries (matches among the mailbox):');
        searches = await checkSearches(service.url, reader, searchQueries(corpus));
      }

      await database.analyze();

      const workloads: Workload[] = [
        // The request path alone: every hook, the log line and the metrics, no database.
        { name: 'hello', label: 'hello (GET /, no database)', method: 'GET', path: '/' },
        {
          name: 'create',
          label: 'create (POST /msg/create/)',
          method: 'POST',
          path: '/msg/create/',
          bodies: [JSON.stringify({ from_userid: users[0]!.id, to_userid: users[10]!.id, subject: 'Bench', message: 'Hello from autocannon' })],
        },
        { name: 'list', label: 'list (GET /msg/list/?limit=10)', method: 'GET', path: '/msg/list/?limit=10' },
        {
          name: 'read',
          label: 'read (PUT 10 ids, read)',
          method: 'PUT',
          path: '/msg/list/',
          bodies: batches.map((ids) => JSON.stringify({ message_id_list: ids, read: 'true' })),
        },
        {
          name: 'spam',
          label: 'spam (PUT 10 ids, spam, through Redis)',
          method: 'PUT',
          path: '/msg/list/',
          bodies: batches.map((ids) => JSON.stringify({ message_id_list: ids, spam: 'true' })),
        },
        { name: 'folder', label: 'folder (GET /users/{id}/messages?limit=50, 10,000 messages)', method: 'GET', path: `/users/${heavy}/messages?limit=50` },
        { name: 'folders', label: 'folders (GET /users/{id}/folders, 10,000 messages)', method: 'GET', path: `/users/${heavy}/folders` },
        changesWorkload(service.url, heavy, users[0]!.id, false),
      ];
      if (reader !== undefined) {
        const paths = searches.map(({ query }) => searchPath(reader, query));
        workloads.push(
          { name: 'search', label: 'search (GET /users/{id}/messages?q=…&limit=50, 100,000 messages)', method: 'GET', path: paths[0]!, paths },
          { name: 'mailbox-open', label: 'mailbox-open (GET /users/{id}/messages?limit=50, 100,000 messages)', method: 'GET', path: `/users/${reader}/messages?limit=50` },
        );
      }
      for (const workload of workloads.filter((candidate) => runs(candidate.name))) {
        rawResults.push(await measureWorkload(service.url, workload, service.pid, database));
      }
      if (runs('push')) {
        log(`push: ${PUSH_STREAMS} event streams, then a message to each, ${PUSH_SENDS_AT_ONCE} at a time …`);
        push = await measurePush(service.url, database.url, service.pid, users[0]!.id);
      }
      await stopService(service);
    }

    let largeRun: { database: string; load: LoadTimings; expected: LargeExpectations; results: (Raw & { small: string })[] } | undefined;
    if (large && LARGE_NAMES.some(runs)) {
      const database = await createBenchDatabase(dialect, 'large', scratch);
      databases.push(database);
      log(`large data set: ${LARGE_MESSAGES} messages over ${LARGE_USERS} users, user ${HEAVY_USER_ID} with ${HEAVY_MESSAGES}, into ${database.label} …`);
      // Migrated by the service's own migrations, loaded, checked; then the service starts on it.
      const handle = createDatabase(database.url, { timeoutMs: 600_000, poolMax: 1 });
      let expected: LargeExpectations;
      let load: LoadTimings;
      try {
        await migrateToLatest(handle.db, handle.dialect);
        load = await loadLargeDataset(handle.db, handle.dialect, await hashPassword('bench-password'), await findCountsRebuild(), log);
        expected = await largeExpectations(handle.db);
      } finally {
        await handle.db.destroy();
      }
      const service = await startService(database, `${KEY_PREFIX}large:`);
      services.push(service);
      const rows: (Raw & { small: string })[] = [];
      for (const { workload, small } of largeWorkloads(service.url, expected).filter((candidate) => runs(candidate.workload.name))) {
        rows.push({ ...(await measureWorkload(service.url, { ...workload, name: `large: ${workload.name}` }, service.pid, database)), workload: workload.name, small });
      }
      await stopService(service);
      largeRun = { database: database.label, load, expected, results: rows };
    }

    if (rawResults.length + (largeRun?.results.length ?? 0) > 0) await measureBare('after the workloads');
    const bareCpu = median(bareRuns.map((run) => run.cpuUsPerRequest));
    const bareRow = { ...bareRuns[0]!, cpuUsPerRequest: bareCpu, cpuMultiple: 1, cpuUsPerRequestRuns: bareRuns.map((run) => run.cpuUsPerRequest) };
    const relative = ({ bareIndex, ...measured }: Raw): Measurement => {
      const bareReading = bareIndex === undefined ? bareCpu : bareBeside(bareIndex);
      return { ...measured, bareCpuUsPerRequest: bareReading, cpuMultiple: Math.round((measured.cpuUsPerRequest / bareReading) * 10) / 10 };
    };
    const readings = bareRuns.map((run) => run.cpuUsPerRequest);
    log(
      paired
        ? `bare node:http: ${readings.length} readings from ${fixed(Math.min(...readings))} to ${fixed(Math.max(...readings))} ${UNIT} per request (median ${fixed(bareCpu)}); each multiple divides by the median of the three readings nearest to its workload`
        : `bare node:http: ${readings.map(fixed).join(' and ')} ${UNIT} per request; the multiples divide by ${fixed(bareCpu)}`,
    );
    const results = rawResults.map(relative);
    const largeResults = largeRun?.results.map((row) => ({ ...relative(row), small: row.small }));

    const { targets, worst } = targetChecks(results);
    const p99Over = [...results, ...(largeResults ?? [])].filter((result) => result.p99 >= P99_BOUND_MS);
    const wrong = [...results, ...(largeResults ?? [])].filter((result) => result.wrong !== undefined);
    const searchesCorrect = searches.every((search) => search.correct);

    if (options.json) {
      const document = {
        date: date.toISOString(),
        settings: {
          database: dialect,
          workers,
          logLevel,
          connections,
          durationSeconds: duration,
          instructionRequests: instructionRequests ?? null,
          warmupSeconds: warmup,
          dataset: options.dataset,
          sqliteSynchronous: dialect === 'sqlite' ? (options['sqlite-synchronous'] ?? 'NORMAL') : null,
          node: process.version,
          cpus: cpus().length,
          clockTicksPerSecond: CLOCK_TICKS,
        },
        bare: bareRow,
        results,
        ...(push ? { push } : {}),
        ...(searches.length > 0 ? { searches } : {}),
        ...(largeRun
          ? {
              large: {
                users: LARGE_USERS,
                messages: LARGE_MESSAGES,
                heavyUserId: HEAVY_USER_ID,
                heavyUserMessages: HEAVY_MESSAGES,
                loadSeconds: largeRun.load,
                heavyUserFolders: largeRun.expected.folders,
                rareWord: largeRun.expected.rareWord,
                rareWordMatches: largeRun.expected.rareMatches,
                commonWord: COMMON_WORD,
                results: largeResults ?? [],
              },
            }
          : {}),
        ...(rssAfterStartMb !== undefined ? { rssAfterStartMb } : {}),
        targets,
        worst: worst ?? null,
      };
      console.log(JSON.stringify(document, null, 2));
    } else {
      const each = instructionRequests === undefined ? `${duration} s each` : `${instructionRequests} requests each under callgrind`;
      console.log(`\n${DIALECT_NAMES[dialect]}, WEB_CONCURRENCY=${workers}, LOG_LEVEL=${logLevel}, ${connections} connections, ${each}; ${date.toISOString()}`);
      // PostgreSQL's own CPU for the service's database (its server processes), beside the service's.
      const databaseColumn = dialect === 'postgres' ? ['PostgreSQL CPU µs/req'] : [];
      const databaseCell = (result: Measurement) => (dialect === 'postgres' ? [fixed(result.databaseCpuUsPerRequest ?? Number.NaN)] : []);
      console.log(`\n${row(['workload', 'req/s', COST_HEADER, MULTIPLE_HEADER, BARE_HEADER, ...databaseColumn, 'p50 ms', 'p99 ms', 'errors', 'max RSS MB'])}`);
      console.log(row(['---', ...Array.from({ length: 8 + databaseColumn.length }, () => '---:')]));
      for (const result of [bareRow, ...results]) {
        console.log(
          row([
            result.label,
            result.requestsPerSecond,
            fixed(result.cpuUsPerRequest),
            `${fixed(result.cpuMultiple)}×`,
            fixed(result.bareCpuUsPerRequest ?? result.cpuUsPerRequest),
            ...databaseCell(result),
            result.p50,
            result.p99,
            result.errors,
            result.rssMb,
          ]),
        );
      }
      if (push) {
        // req/s: the messages' rate; p50/p99: from a send's answer to its stream's event; errors: failed sends and events that never came.
        console.log(row([`push (${push.streams} streams, a message to each)`, push.sendsPerSecond, '–', '–', '–', ...databaseColumn.map(() => '–'), push.p50, push.p99, push.sendErrors + push.streams - push.received, push.rssAfterMb]));
        console.log(
          `\npush: ${push.streams} streams open on one instance, one per user; a message to each (${PUSH_SENDS_AT_ONCE} at a time, ${push.sendsPerSecond}/s): ` +
            `${push.received}/${push.streams} events received, from the send's answer to the event p50 ${push.p50} ms, p99 ${push.p99} ms, max ${push.max} ms` +
            `${push.aheadOfAnswer > 0 ? ` (${push.aheadOfAnswer} came before their send's answer: counted 0)` : ''}.` +
            `\nmemory: service RSS ${push.rssBeforeMb} MB before the streams, ${push.rssAfterMb} MB with ${push.streams} open: ${push.kbPerStream} KB per open stream.`,
        );
      }
      if (largeRun) {
        const load = largeRun.load;
        console.log(
          `\nLarge data set on ${DIALECT_NAMES[dialect]}: ${LARGE_MESSAGES.toLocaleString('en')} messages over ${LARGE_USERS.toLocaleString('en')} users, ` +
            `user ${HEAVY_USER_ID} has received ${HEAVY_MESSAGES.toLocaleString('en')}; written in ` +
            `${Math.round((load.usersSeconds + load.messagesSeconds + load.searchIndexSeconds + load.countsSeconds + load.analyzeSeconds) * 10) / 10} s. ` +
            `"alone": one request at a time (median / slowest of 20); small data: the same request's p50 / p99 above.`,
        );
        console.log(`\n${row(['workload (heavy user)', 'req/s', COST_HEADER, MULTIPLE_HEADER, BARE_HEADER, ...databaseColumn, 'p50 ms', 'p99 ms', 'alone ms', 'errors', 'max RSS MB', 'small data p50 / p99 ms'])}`);
        console.log(row(['---', ...Array.from({ length: 10 + databaseColumn.length }, () => '---:')]));
        for (const result of largeResults ?? []) {
          const small = results.find((candidate) => candidate.workload === result.small);
          console.log(
            row([
              result.label,
              result.requestsPerSecond,
              fixed(result.cpuUsPerRequest),
              `${fixed(result.cpuMultiple)}×`,
              fixed(result.bareCpuUsPerRequest ?? Number.NaN),
              ...databaseCell(result),
              result.p50,
              result.p99,
              result.alone ? `${result.alone.median} / ${result.alone.max}` : '–',
              result.errors,
              result.rssMb,
              small ? `${small.p50} / ${small.p99} (${small.workload})` : '–',
            ]),
          );
        }
      }
      console.log('');
      if (instructionRequests !== undefined) {
        // No targets, latencies nor memory under callgrind: it slows everything fiftyfold, and counts user space only.
        console.log(
          `\ninstructions count user space only: a request's system calls (its socket's reads and writes, a large share of the bare server's cost) ` +
            `are not in them, so their multiples are not the CPU targets'. Compare two builds with them.`,
        );
      } else {
        if (targets.length > 0) {
          console.log(
            `targets (CPU per request, × bare): ${targets.map((target) => `${target.workload} ${fixed(target.cpuMultiple)}× (≤ ${target.target}×: ${target.met ? 'met' : 'MISSED'})`).join(', ')}`,
          );
        }
        const processes = Math.max(0, ...results.map((result) => result.processes));
        if (processes > 1) console.log(`service: ${processes} processes measured together (a primary and its workers): CPU and RSS are their sums`);
        if (rssAfterStartMb !== undefined) {
          console.log(`service RSS after start: ${rssAfterStartMb} MB${processes > 1 ? `, ${processes} processes` : ''} (bound ${RSS_AFTER_START_BOUND_MB} MB)`);
        }
        console.log(
          p99Over.length === 0
            ? `p99 under ${P99_BOUND_MS} ms on every workload`
            : `p99 at or over ${P99_BOUND_MS} ms: ${p99Over.map((result) => `${result.workload}${largeResults?.includes(result as Measurement & { small: string }) ? ' (large)' : ''} ${result.p99} ms`).join(', ')}`,
        );
        if (worst) console.log(`worst: ${worst.workload} at ${fixed(worst.cpuMultiple)}× bare CPU (${worst.target === null ? 'no target' : `target ${worst.target}×`})`);
      }
    }
    const errors = [...results, ...(largeResults ?? [])].some((result) => result.errors > 0);
    const pushFailed = push !== undefined && (push.received < push.streams || push.sendErrors > 0 || !(push.p99 < PUSH_P99_GOAL_MS));
    if (errors) console.error('some requests failed (non-2xx or errors): see the errors column');
    if (!searchesCorrect) console.error('some searches answered other than the corpus says: see "search queries" above');
    if (wrong.length > 0) console.error(`answered wrong: ${wrong.map((result) => `${result.workload}: ${result.wrong}`).join('; ')}`);
    if (pushFailed) console.error(`push: every stream must get its event, with p99 under ${PUSH_P99_GOAL_MS} ms: see the push line`);
    process.exitCode = errors || !searchesCorrect || wrong.length > 0 || pushFailed ? 1 : 0;
  } finally {
    await cleanUp();
  }
}

await main();
