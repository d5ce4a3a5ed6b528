/**
 * Once per test run: check PostgreSQL and Redis answer, drop stale test databases, build the
 * migrated template database every test file clones, and compile the `catalytic` executable into
 * plain JavaScript for the processes tests start (catalytic-bundle.ts). The kernel pools tests
 * start inside vitest use that bundle's compiled thread too (KERNEL_THREAD_FILE, thread-file.ts):
 * through the source entry each of their threads registered tsx and compiled every kernel module.
 *
 * `TEST_REDIS_CLUSTER=1` runs the whole run against a 3-primary Redis Cluster started here on
 * loopback (or `TEST_REDIS_CLUSTER_NODES=host:port,…` against one that already runs): every file's
 * processes get REDIS_CLUSTER_NODES.
 */
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../shared/db.ts';
import { migrateLatest } from '../../shared/migrate.ts';
import { buildCatalyticBundle } from './catalytic-bundle.ts';
import { type RedisCluster, startRedisCluster } from '../harness/redis-cluster.ts';
import { createDatabase, databaseUrl, dropDatabase, dropStaleDatabases, freshDatabaseName } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    redisUrl: string;
    /** Seeds of the Redis Cluster the run uses, or '' for the single Redis at `redisUrl`. */
    redisClusterNodes: string;
    /** The `catalytic` executable compiled to plain JavaScript: run it with `node`. */
    catalyticBundle: string;
    /** The kernel threads' entry of that bundle, which the test files' pools load. */
    kernelThreadBundle: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Tests need Redis at ${redisUrl}: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }

  const bundling = buildCatalyticBundle();
  await dropStaleDatabases();
  const template = freshDatabaseName('template');
  await createDatabase(template);
  const db = createDb({ url: databaseUrl(template) });
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  let cluster: RedisCluster | undefined;
  let clusterNodes = process.env.TEST_REDIS_CLUSTER_NODES ?? '';
  if (!clusterNodes && /^(1|true|yes)$/i.test(process.env.TEST_REDIS_CLUSTER ?? '')) {
    cluster = await startRedisCluster({ primaries: 3 });
    clusterNodes = cluster.seeds;
  }
  const bundle = await bundling;
  project.provide('templateDatabase', template);
  project.provide('redisUrl', redisUrl);
  project.provide('redisClusterNodes', clusterNodes);
  project.provide('catalyticBundle', bundle.file);
  project.provide('kernelThreadBundle', bundle.threadFile);
  // Read by thread-file.ts in the test files' processes, which vitest forks after this setup.
  process.env.KERNEL_THREAD_FILE = bundle.threadFile;
  return async () => {
    await bundle.remove();
    await dropDatabase(template);
    await cluster?.stop();
  };
}
