/**
 * `npm run bench`: starts the built service (production settings, a fresh SQLite file, Redis from
 * REDIS_URL under a key prefix of its own, logs at warn) and a bare node:http server, drives each
 * with autocannon, and prints req/s, latency and the ratio to the bare server, measured in one run.
 *
 *   npm run bench -- --duration 10 --connections 16 --only list,create --json
 *
 * Workloads: create (POST /msg/create/), list (GET /msg/list/?limit=10), read and spam (PUT a batch of
 * 10 ids), folder (GET /users/{id}/messages?limit=50 on a mailbox of 10,000 messages), search (GET
 * /users/{id}/messages?q=…&limit=50 over a mailbox of 100,000 messages, rotating queries: a rare word, a
 * common word, two words, a word and a 2-3 letter prefix) and mailbox-open (GET /users/{id}/messages?limit=50
 * on that same mailbox). The 100,000 messages are written straight into the SQLite file and indexed
 * through the search index's own function, only when search or mailbox-open is run.
 *
 * Workload push (not autocannon): 1,000 users (written straight into the SQLite file) each open one
 * Server-Sent Events stream (GET /users/{id}/events) on the service; then one message goes to each
 * (POST /msg/create/, 16 at a time), and each message's delay from the send's answer to its stream's
 * state event is measured (p50/p99; all 1,000 must arrive, p99 under 1 s). The service's RSS before
 * and after the streams are opened gives the memory an open stream costs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, type ClientRequest, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { createDatabase } from '../src/db/create-db.js';
import { normalizeEmail } from '../src/email.js';
import { indexUnindexedMessages } from '../src/modules/mailbox/search-index.js';

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
    'sqlite-synchronous': { type: 'string' },
  },
});
const duration = Number(options.duration);
const connections = Number(options.connections);
const log = (line: string) => {
  if (!options.json) console.log(line);
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

async function waitUntilUp(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up`);
}

function residentMegabytes(pid: number): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return match ? Number(match[1]) / 1024 : 0;
}

const BARE_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ Hello: 'World' });
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

interface Workload {
  name: string;
  path: string;
  method: 'GET' | 'POST' | 'PUT';
  bodies?: string[];
  /** requests rotate over these paths (instead of `path` alone) */
  paths?: string[];
}

interface Measurement {
  workload: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  ratio: number;
  maxRssMb: number;
}

async function measure(baseUrl: string, workload: Workload, pid: number): Promise<Omit<Measurement, 'ratio'>> {
  let next = 0;
  let maxRss = residentMegabytes(pid);
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, residentMegabytes(pid))), 200);
  const result = await autocannon({
    url: baseUrl,
    connections,
    duration,
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
  });
  clearInterval(sampler);
  return {
    workload: workload.name,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    maxRssMb: Math.round(maxRss),
  };
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
 * senders, written straight into the SQLite file in one transaction, then added to the full-text index
 * by the function the service's migration uses for messages stored without it.
 */
async function loadSearchMailbox(baseUrl: string, file: string, senders: number[], corpus: SearchCorpus): Promise<number> {
  const reader = await post(baseUrl, '/users/', { email: 'search@example.com', password: 'bench-password' });
  const { db } = createDatabase(`sqlite:${file}`, { timeoutMs: 60_000 });
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
    log(`  ${rows.length} messages stored in ${((stored - started) / 1000).toFixed(1)} s, ${indexed} indexed in ${((Date.now() - stored) / 1000).toFixed(1)} s`);
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

/**
 * Each search answers 200 with as many messages as the corpus says (at most the page), false otherwise;
 * and how long each takes alone (one request at a time, after a first one to warm up), median and slowest.
 */
async function checkSearches(baseUrl: string, reader: number, queries: { kind: string; query: string; matches: number }[]): Promise<boolean> {
  let correct = true;
  for (const { kind, query, matches } of queries) {
    const url = `${baseUrl}${searchPath(reader, query)}`;
    const response = await fetchAgainIfClosed(url);
    const body = response.ok ? ((await response.json()) as { messages: unknown[] }) : undefined;
    const expected = Math.min(matches, 50);
    const ok = body?.messages.length === expected;
    correct &&= ok;
    const times: number[] = [];
    for (let run = 0; run < 20; run += 1) {
      const started = performance.now();
      await (await fetch(url)).arrayBuffer();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const timing = `alone: median ${times[10]!.toFixed(1)} ms, slowest ${times.at(-1)!.toFixed(1)} ms`;
    const verdict = ok ? '' : `; WRONG: answered ${response.status} with ${body?.messages.length ?? 'no'} messages, expected ${expected}`;
    log(`  ${kind.padEnd(15)} q=${JSON.stringify(query).padEnd(20)} ${String(matches).padStart(6)} matches, ${timing}${verdict}`);
  }
  return correct;
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

/** The push workload's users, written straight into the SQLite file with a seeded user's password hash. */
async function insertPushUsers(file: string, count: number): Promise<number[]> {
  const { db } = createDatabase(`sqlite:${file}`, { timeoutMs: 60_000 });
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

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

async function measurePush(baseUrl: string, databaseFile: string, pid: number, senderId: number): Promise<PushMeasurement> {
  const userIds = await insertPushUsers(databaseFile, PUSH_STREAMS);
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

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'inbox-bench-'));
  const databaseFile = join(dir, 'bench.db');
  const children: ChildProcess[] = [];
  const stopAll = () => children.forEach((child) => child.kill('SIGTERM'));
  process.on('exit', stopAll);
  try {
    const barePort = await freePort();
    const bare = spawn(process.execPath, ['-e', BARE_SERVER], { env: { ...process.env, PORT: String(barePort) }, stdio: 'inherit' });
    children.push(bare);

    const servicePort = await freePort();
    const service = spawn(process.execPath, ['dist/server.js'], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(servicePort),
        HOST: '127.0.0.1',
        DATABASE_URL: `sqlite:${databaseFile}`,
        REDIS_URL,
        REDIS_KEY_PREFIX: KEY_PREFIX,
        LOG_LEVEL: 'warn',
        // The benchmark measures the service, not its abuse limits (one sender sends thousands a second).
        RATE_LIMIT_MESSAGES_PER_MINUTE: '0',
        RATE_LIMIT_SIGNUP_PER_MINUTE: '0',
        ...(options['sqlite-synchronous'] ? { SQLITE_SYNCHRONOUS: options['sqlite-synchronous'] } : {}),
      },
      stdio: 'inherit',
    });
    children.push(service);

    const bareUrl = `http://127.0.0.1:${barePort}`;
    const serviceUrl = `http://127.0.0.1:${servicePort}`;
    await Promise.all([waitUntilUp(bareUrl), waitUntilUp(serviceUrl)]);
    log(`seeding ${serviceUrl} …`);
    const { users, batches, heavy } = await seed(serviceUrl);
    const selectedNames = options.only?.split(',');
    const runs = (name: string) => !selectedNames || selectedNames.includes(name);

    // The 100,000-message mailbox, only when a workload reads it (it takes a while to load).
    let reader: number | undefined;
    let searches: { kind: string; query: string; matches: number }[] = [];
    let searchesCorrect = true;
    if (runs('search') || runs('mailbox-open')) {
      log(`loading a mailbox of ${SEARCH_MAILBOX_SIZE} messages …`);
      const corpus = searchCorpus();
      reader = await loadSearchMailbox(serviceUrl, databaseFile, users.slice(0, 10).map((user) => user.id), corpus);
      searches = searchQueries(corpus);
      log('search queries (matches among the mailbox):');
      searchesCorrect = await checkSearches(serviceUrl, reader, searches);
    }

    const workloads: Workload[] = [
      {
        name: 'create',
        method: 'POST',
        path: '/msg/create/',
        bodies: [JSON.stringify({ from_userid: users[0]!.id, to_userid: users[10]!.id, subject: 'Bench', message: 'Hello from autocannon' })],
      },
      { name: 'list', method: 'GET', path: '/msg/list/?limit=10' },
      { name: 'read', method: 'PUT', path: '/msg/list/', bodies: batches.map((ids) => JSON.stringify({ message_id_list: ids, read: 'true' })) },
      { name: 'spam', method: 'PUT', path: '/msg/list/', bodies: batches.map((ids) => JSON.stringify({ message_id_list: ids, spam: 'true' })) },
      { name: 'folder', method: 'GET', path: `/users/${heavy}/messages?limit=50` },
    ];
    if (reader !== undefined) {
      const paths = searches.map(({ query }) => searchPath(reader, query));
      workloads.push(
        { name: 'search', method: 'GET', path: paths[0]!, paths },
        { name: 'mailbox-open', method: 'GET', path: `/users/${reader}/messages?limit=50` },
      );
    }
    const selected = workloads.filter((workload) => runs(workload.name));

    log(`bare node:http, ${connections} connections, ${duration} s …`);
    const baseline = await measure(bareUrl, { name: 'bare', method: 'GET', path: '/' }, bare.pid!);
    const results: Measurement[] = [{ ...baseline, ratio: 1 }];
    for (const workload of selected) {
      log(`${workload.name} …`);
      const measured = await measure(serviceUrl, workload, service.pid!);
      results.push({ ...measured, ratio: Math.round((measured.requestsPerSecond / baseline.requestsPerSecond) * 100) / 100 });
    }
    let push: PushMeasurement | undefined;
    if (runs('push')) {
      log(`push: ${PUSH_STREAMS} event streams, then a message to each, ${PUSH_SENDS_AT_ONCE} at a time …`);
      push = await measurePush(serviceUrl, databaseFile, service.pid!, users[0]!.id);
    }

    if (options.json) {
      console.log(JSON.stringify({ connections, durationSeconds: duration, results, ...(push ? { push } : {}) }, null, 2));
    } else {
      console.log(`\n| workload | req/s | p50 ms | p99 ms | errors | ratio to bare | max RSS MB |`);
      console.log(`|---|---:|---:|---:|---:|---:|---:|`);
      for (const row of results) {
        console.log(`| ${row.workload} | ${row.requestsPerSecond} | ${row.p50} | ${row.p99} | ${row.errors} | ${row.ratio.toFixed(2)} | ${row.maxRssMb} |`);
      }
      if (push) {
        // req/s: the messages' rate; p50/p99: from a send's answer to its stream's event; errors: failed sends and events that never came.
        console.log(`| push | ${push.sendsPerSecond} | ${push.p50} | ${push.p99} | ${push.sendErrors + push.streams - push.received} | – | ${push.rssAfterMb} |`);
        console.log(
          `\npush: ${push.streams} streams open on one instance, one per user; a message to each (${PUSH_SENDS_AT_ONCE} at a time, ${push.sendsPerSecond}/s): ` +
            `${push.received}/${push.streams} events received, from the send's answer to the event p50 ${push.p50} ms, p99 ${push.p99} ms, max ${push.max} ms` +
            `${push.aheadOfAnswer > 0 ? ` (${push.aheadOfAnswer} came before their send's answer: counted 0)` : ''}.` +
            `\nmemory: service RSS ${push.rssBeforeMb} MB before the streams, ${push.rssAfterMb} MB with ${push.streams} open: ${push.kbPerStream} KB per open stream.`,
        );
      }
    }
    const pushFailed = push !== undefined && (push.received < push.streams || push.sendErrors > 0 || !(push.p99 < PUSH_P99_GOAL_MS));
    const failed = results.some((row) => row.errors > 0) || !searchesCorrect || pushFailed;
    if (results.some((row) => row.errors > 0)) console.error('some requests failed (non-2xx or errors): see the errors column');
    if (!searchesCorrect) console.error('some searches answered other than the corpus says: see "search queries" above');
    if (pushFailed) console.error(`push: every stream must get its event, with p99 under ${PUSH_P99_GOAL_MS} ms: see the push line`);
    process.exitCode = failed ? 1 : 0;
  } finally {
    stopAll();
    rmSync(dir, { recursive: true, force: true });
    await deleteBenchKeys();
  }
}

await main();
