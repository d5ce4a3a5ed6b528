/**
 * Per-file test isolation: `useTestEnvironment()` gives the file its own database (a clone of the
 * migrated template), its own Redis key prefix and a Config pointing at both. Everything is
 * removed after the file's tests.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { type Config, parseConfig } from '../../shared/config.ts';
import { createDb, type Db } from '../../shared/db.ts';
import { createLogger } from '../../shared/logger.ts';
import { type Cluster, createRedis, createRedisCluster, deleteKeysWithPrefix, type RedisClient, scanKeys } from '../../shared/redis.ts';
import { createRuntime, type Runtime } from '../../shared/runtime.ts';
import { createDatabase, databaseUrl, dropDatabase, freshDatabaseName } from './postgres.ts';

export interface TestEnvironment {
  /** Environment variables for this file's database and Redis prefix (for child processes too). */
  env: Record<string, string>;
  config: Config;
  /** Owner connection (bypasses row-level security), for arranging and asserting. */
  db: Db;
  /** The run's Redis, or its Redis Cluster when the run uses one (TEST_REDIS_CLUSTER). */
  redis: RedisClient;
  databaseName: string;
  redisPrefix: string;
  /** A runtime like a role's, for in-process services; closed after the file. */
  runtime(overrides?: Record<string, string>): Runtime;
}

/**
 * The test connection to a cluster. Its KEYS answers from every primary, as KEYS on one Redis
 * does (a cluster client sends it to one node), so assertions over keys hold on both.
 */
function testClusterConnection(seeds: string): Cluster {
  const cluster = createRedisCluster(seeds, { connectionName: 'test' });
  const keysOfAll = async (pattern: string): Promise<string[]> => {
    const all: string[] = [];
    for await (const keys of scanKeys(cluster, pattern)) all.push(...keys);
    return all;
  };
  cluster.keys = keysOfAll as Cluster['keys'];
  return cluster;
}

export function useTestEnvironment(extraEnv: Record<string, string> = {}): TestEnvironment {
  const runtimes: Runtime[] = [];
  const te = {} as TestEnvironment;
  beforeAll(async () => {
    const databaseName = freshDatabaseName();
    await createDatabase(databaseName, inject('templateDatabase'));
    const redisPrefix = `cat_t_${randomBytes(4).toString('hex')}`;
    const clusterNodes = inject('redisClusterNodes');
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      LOG_PRETTY: 'false',
      DATABASE_URL: databaseUrl(databaseName),
      DATABASE_CREATE: 'false',
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: redisPrefix,
      ...(clusterNodes ? { REDIS_CLUSTER_NODES: clusterNodes } : {}),
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_PORT: '0',
      SHUTDOWN_GRACE_MS: '10000',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      // Workers start cold here: the kernel warm-up's 0.2–0.3 s of CPU at each of dozens of worker
      // starts a run loads the two cores the timing-sensitive files share; kernel-warm-up.test.ts
      // covers it, and the README's `npm start` runs the default.
      KERNEL_WARMUP_RUNS: '0',
      ...extraEnv,
    };
    Object.assign(te, {
      env,
      config: parseConfig(env),
      db: createDb({ url: env.DATABASE_URL as string, poolMax: 5 }),
      redis: env.REDIS_CLUSTER_NODES ? testClusterConnection(env.REDIS_CLUSTER_NODES) : createRedis(env.REDIS_URL as string, { connectionName: 'test' }),
      databaseName,
      redisPrefix,
      runtime(overrides: Record<string, string> = {}) {
        const config = parseConfig({ ...env, ...overrides });
        const runtime = createRuntime(config, { name: 'test', logger: createLogger(config, 'test') });
        runtimes.push(runtime);
        return runtime;
      },
    });
  });
  afterAll(async () => {
    await Promise.allSettled(runtimes.map((r) => r.close()));
    if (te.redis) {
      await deleteKeysWithPrefix(te.redis, te.redisPrefix);
      te.redis.disconnect();
    }
    await te.db?.destroy();
    if (te.databaseName) await dropDatabase(te.databaseName);
  });
  return te;
}
