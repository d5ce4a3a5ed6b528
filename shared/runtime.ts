/**
 * The connections and settings one process shares between its roles. `catalytic all` makes one
 * runtime for the API, the worker and the scheduler; a single-role process makes its own.
 */
import type { Config } from './config.ts';
import { createDbFromConfig, type Db } from './db.ts';
import { createLogger, type Logger } from './logger.ts';
import { closeRedis, createRedisFromConfig, type RedisClient } from './redis.ts';
import { once } from './service.ts';
import type { SecretBox } from './webhooks/secret-box.ts';
import { loadSecretBox } from './webhooks/secret-keys.ts';

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Db;
  /** Shared connection for request-path commands (fails in seconds while Redis is down). */
  readonly redis: RedisClient;
  /** Connection for health checks (fails at once while Redis is down). */
  readonly redisProbe: RedisClient;
  /** Wall-clock start, for uptime. */
  readonly startedAt: number;
  /** The keys webhook secrets are sealed with, loaded on first use (throws ConfigError when unusable). */
  readonly secretBox: SecretBox;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Names the process in logs and in PostgreSQL/Redis client lists. */
  name: string;
  logger?: Logger;
}

export function createRuntime(config: Config, options: RuntimeOptions): Runtime {
  const logger = options.logger ?? createLogger(config, options.name);
  const db = createDbFromConfig(config, options.name, logger);
  const redis = createRedisFromConfig(config, `${options.name}:commands`, 'commands');
  const redisProbe = createRedisFromConfig(config, `${options.name}:probe`, 'probe');
  let secretBox: SecretBox | undefined;
  return {
    config,
    logger,
    db,
    redis,
    redisProbe,
    startedAt: Date.now(),
    get secretBox() {
      secretBox ??= loadSecretBox(config);
      return secretBox;
    },
    close: once(async () => {
      await Promise.allSettled([closeRedis(redis), closeRedis(redisProbe), db.destroy()]);
    }),
  };
}
