/**
 * The spam counters in Redis: the only code that knows their keys and scripts.
 * - `msg:spam-reports:uid:<sender>`: the contract's counter, a plain integer (absent at 0);
 * - `msg:spam-reports-version:uid:<sender>`: `<generation>:<version>` of the ledger write it shows;
 * - `msg:spam-reports-generation`: the generation of the database whose ledger Redis last mirrored.
 * A write applies when its version is at least the stored one, or when the stored one belongs to
 * another database (generation) or to nobody: retries and races never move a counter backwards,
 * and a Redis that outlived its database is no obstacle.
 */
import type { Redis, Result } from 'ioredis';
import type { CounterState } from './spam-ledger.repository.js';

const COUNTER_KEY = 'msg:spam-reports:uid:';
const VERSION_KEY = 'msg:spam-reports-version:uid:';
const GENERATION_KEY = 'msg:spam-reports-generation';

const counterKey = (senderId: number) => `${COUNTER_KEY}${senderId}`;
const versionKey = (senderId: number) => `${VERSION_KEY}${senderId}`;

/** Lua: the stored version if it is of this generation; else -1 (another database, none, or garbage of any type). */
const STORED_VERSION_LUA = `
local function storedVersion(key, generation)
  local stored = redis.pcall('GET', key)
  if type(stored) ~= 'string' then return -1 end
  local storedGeneration, version = string.match(stored, '^(.*):(%d+)$')
  if storedGeneration ~= generation then return -1 end
  return tonumber(version)
end
`;

/**
 * KEYS: counter and version key per sender; ARGV: generation, then reporters, version, expiry (epoch
 * ms) per sender. Returns, for every write it refused, the sender's position and the stored version.
 */
const PUBLISH_LUA = `${STORED_VERSION_LUA}
local generation = ARGV[1]
local refused = {}
for i = 1, #KEYS, 2 do
  local base = 1 + (i - 1) / 2 * 3
  local reporters = tonumber(ARGV[base + 1])
  local version = tonumber(ARGV[base + 2])
  local expireAt = ARGV[base + 3]
  local stored = storedVersion(KEYS[i + 1], generation)
  if version >= stored then
    if reporters > 0 then redis.call('SET', KEYS[i], reporters, 'PXAT', expireAt) else redis.call('DEL', KEYS[i]) end
    redis.call('SET', KEYS[i + 1], generation .. ':' .. version, 'PXAT', expireAt)
  else
    table.insert(refused, (i - 1) / 2)
    table.insert(refused, stored)
  end
end
return refused
`;

/**
 * KEYS: counter and version key of one sender; ARGV: the version key's value as last seen ('' for
 * none), then the new value ('' to remove the counter), reporters and expiry. Applies only if nothing
 * was written since it was seen, so it can overrule a stale value but never a fresh one.
 */
const REPLACE_IF_UNCHANGED_LUA = `
local current = redis.pcall('GET', KEYS[2])
if type(current) ~= 'string' then current = '' end
if current ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1], KEYS[2])
else
  if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[4]) else redis.call('DEL', KEYS[1]) end
  redis.call('SET', KEYS[2], ARGV[2], 'PXAT', ARGV[4])
end
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    publishSpamCounters(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Result<number[], Context>;
    replaceSpamCounterIfUnchanged(...keysAndArgs: (string | number)[]): Result<number, Context>;
  }
}

const PUBLISH_CHUNK = 500;

/** A write the store refused: Redis holds a newer version of this sender's counter (same generation). */
export interface RefusedWrite {
  senderId: number;
  storedVersion: number;
}

export class RedisCounterStore {
  constructor(
    readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {
    redis.defineCommand('publishSpamCounters', { lua: PUBLISH_LUA });
    redis.defineCommand('replaceSpamCounterIfUnchanged', { numberOfKeys: 2, lua: REPLACE_IF_UNCHANGED_LUA });
  }

  /** Writes counters that are not older than what Redis holds; answers the ones it refused. */
  async publish(generation: string, counters: readonly CounterState[]): Promise<RefusedWrite[]> {
    const refused: RefusedWrite[] = [];
    for (let start = 0; start < counters.length; start += PUBLISH_CHUNK) {
      const chunk = counters.slice(start, start + PUBLISH_CHUNK);
      const keys = chunk.flatMap((counter) => [counterKey(counter.senderId), versionKey(counter.senderId)]);
      const args = chunk.flatMap((counter) => [counter.reporters, counter.version, counter.expiresAt]);
      const answer = await this.redis.publishSpamCounters(keys.length, ...keys, generation, ...args);
      for (let index = 0; index < answer.length; index += 2) {
        const counter = chunk[answer[index] ?? -1];
        if (counter) refused.push({ senderId: counter.senderId, storedVersion: answer[index + 1] ?? -1 });
      }
    }
    return refused;
  }

  /** The version keys' raw values (`<generation>:<version>`, '' for none), to replace them only if unchanged. */
  async versionsOf(senderIds: readonly number[]): Promise<Map<number, string>> {
    if (senderIds.length === 0) return new Map();
    const values = await this.redis.mget(...senderIds.map(versionKey));
    return new Map(senderIds.map((senderId, index) => [senderId, values[index] ?? '']));
  }

  /**
   * Sets a counter to `counter` (or removes it when undefined), provided its version key still
   * reads `seen`. Answers whether it did.
   */
  async replaceIfUnchanged(senderId: number, seen: string, generation: string, counter: CounterState | undefined): Promise<boolean> {
    const next = counter ? `${generation}:${counter.version}` : '';
    const applied = await this.redis.replaceSpamCounterIfUnchanged(
      counterKey(senderId),
      versionKey(senderId),
      seen,
      next,
      counter?.reporters ?? 0,
      counter?.expiresAt ?? 0,
    );
    return applied === 1;
  }

  /** Every sender that has a counter key, in batches (SCAN: never blocks Redis). */
  async *countedSenders(): AsyncGenerator<number[]> {
    // SCAN does not apply ioredis' keyPrefix, so match and strip it by hand.
    const pattern = `${this.keyPrefix}${COUNTER_KEY}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      const senders = keys
        .map((key) => Number(key.slice(this.keyPrefix.length + COUNTER_KEY.length)))
        .filter((senderId) => Number.isSafeInteger(senderId));
      if (senders.length > 0) yield senders;
    } while (cursor !== '0');
  }

  /** The generation of the database Redis last mirrored (undefined: none yet). */
  async mirroredGeneration(): Promise<string | undefined> {
    return (await this.redis.get(GENERATION_KEY)) ?? undefined;
  }

  async markMirrored(generation: string): Promise<void> {
    await this.redis.set(GENERATION_KEY, generation);
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
