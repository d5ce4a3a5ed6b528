/**
 * ioredis connections, made for one of three purposes:
 * - `blocking`: BullMQ workers and anything that may wait out a Redis restart
 *   (`maxRetriesPerRequest: null`, as BullMQ requires);
 * - `commands`: request paths (API, rate limits, producers) where a Redis outage should fail a
 *   request in seconds, not hang it;
 * - `probe`: health checks, failing at once while disconnected.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.ts';

export { Redis };

export type RedisPurpose = 'blocking' | 'commands' | 'probe';

export interface RedisFactoryOptions {
  /** Shown in `CLIENT LIST` so operators can tell roles apart. */
  connectionName?: string;
  /** @defaultValue 'commands' */
  purpose?: RedisPurpose;
}

const PURPOSE_OPTIONS: Record<RedisPurpose, RedisOptions> = {
  blocking: { maxRetriesPerRequest: null },
  commands: { maxRetriesPerRequest: 2, connectTimeout: 5000 },
  probe: { maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 3000 },
};

export function createRedis(url: string, options: RedisFactoryOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: options.connectionName,
    enableReadyCheck: true,
    // Reconnect for ever with a capped backoff: Redis restarts are routine.
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 3000),
    ...PURPOSE_OPTIONS[options.purpose ?? 'commands'],
  });
  // Failures surface through health checks and the operations that fail; an unhandled 'error'
  // event would otherwise crash the process.
  redis.on('error', () => undefined);
  return redis;
}

export function createRedisFromConfig(config: Config, connectionName: string, purpose: RedisPurpose = 'commands'): Redis {
  return createRedis(config.REDIS_URL, { connectionName, purpose });
}

/** Round-trip time of a PING, in milliseconds. */
export async function pingRedis(redis: Redis): Promise<number> {
  const started = performance.now();
  await redis.ping();
  return performance.now() - started;
}

/** Closes a connection gracefully, falling back to a hard disconnect when it is already broken. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
