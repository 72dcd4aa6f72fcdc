/**
 * How this service connects to Redis, wherever it does (spam counters, rate limits): fail fast
 * while disconnected instead of queueing commands, time commands out, and keep reconnecting.
 */
import type { RedisOptions } from 'ioredis';

export function failFastRedisOptions(keyPrefix: string, commandTimeoutMs: number): RedisOptions {
  return {
    keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  };
}
