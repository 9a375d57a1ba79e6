/**
 * Redis connections for BullMQ and for our own keys. ioredis reconnects on its own after a
 * Redis restart (every 100 ms at first, then at most every 2 s, for ever); what happens to a
 * command sent while Redis is away depends on the role:
 * - `blocking` (BullMQ workers and queue events, which block on Redis): the command waits for
 *   the reconnection (`maxRetriesPerRequest: null`, which BullMQ requires for them);
 * - `request` (the API's queue and commands made for an HTTP request): it fails after two
 *   reconnection attempts, so a request gets a clear error instead of hanging.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from './config.js';

export type RedisRole = 'blocking' | 'request';

/** ioredis options whose retryStrategy is always a function (what BullMQ's own type accepts). */
export type QueueRedisOptions = Omit<RedisOptions, 'retryStrategy'> & { retryStrategy: (times: number) => number };

/** ioredis options for `config` (BullMQ classes take these and open their own connections). */
export function redisOptions(config: RedisConfig, role: RedisRole, connectionName?: string): QueueRedisOptions {
  return {
    host: config.host,
    port: config.port,
    db: config.db,
    ...(config.username ? { username: config.username } : {}),
    ...(config.password ? { password: config.password } : {}),
    ...(config.tls ? { tls: { servername: config.host } } : {}),
    ...(connectionName ? { connectionName } : {}),
    maxRetriesPerRequest: role === 'blocking' ? null : 2,
    connectTimeout: 5_000,
    retryStrategy: (times: number) => Math.min(100 * times, 2_000),
    // A replica promoted after a failover answers READONLY to writes: reconnect to find the primary.
    reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
  };
}

/** A new ioredis client (the caller quits it). */
export function createRedisConnection(config: RedisConfig, role: RedisRole, connectionName?: string): Redis {
  return new Redis(redisOptions(config, role, connectionName));
}

/** Where Redis is, for messages (never the password). */
export function describeRedis(config: RedisConfig): string {
  return `${config.tls ? 'rediss' : 'redis'}://${config.host}:${config.port}/${config.db}`;
}
