/**
 * Once per test run: check PostgreSQL and Redis answer, drop stale test databases, and build the
 * migrated template database every test file clones.
 */
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../shared/db.ts';
import { migrateLatest } from '../../shared/migrate.ts';
import { createDatabase, databaseUrl, dropDatabase, dropStaleDatabases, freshDatabaseName } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    redisUrl: string;
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

  await dropStaleDatabases();
  const template = freshDatabaseName('template');
  await createDatabase(template);
  const db = createDb({ url: databaseUrl(template) });
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  project.provide('templateDatabase', template);
  project.provide('redisUrl', redisUrl);
  return async () => {
    await dropDatabase(template);
  };
}
