/**
 * Dependency checks behind `/ready` and `/health`, shared by every role. Each check is bounded in
 * time so a hung dependency reads as "down", not as a hung probe.
 */
import { once } from 'node:events';
import { pingDb } from './db.ts';
import { pendingMigrations } from './migrate.ts';
import { pingRedis, type RedisClient } from './redis.ts';
import type { Runtime } from './runtime.ts';
import { VERSION } from './version.ts';

export interface DependencyState {
  status: 'up' | 'down';
  latency_ms?: number;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  uptime_s: number;
  dependencies: {
    postgres: DependencyState;
    redis: DependencyState;
    migrations: DependencyState & { pending?: string[] };
  };
}

const CHECK_TIMEOUT_MS = 2000;

async function timed(fn: () => Promise<number>): Promise<DependencyState> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const latency = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', latency_ms: Math.round(latency * 100) / 100 };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { status: 'down', error: e.code ?? e.message ?? 'unavailable' };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The probe connection fails at once while disconnected; a process that has only just started
 * is still connecting, which is not "down": wait for that first connection (within the check's
 * time limit).
 */
async function pingProbe(redis: RedisClient): Promise<number> {
  if (redis.status === 'wait' || redis.status === 'connecting' || redis.status === 'connect') {
    await once(redis, 'ready', { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
  }
  return pingRedis(redis);
}

export async function checkHealth(runtime: Runtime): Promise<HealthReport> {
  let pending: string[] | undefined;
  const [postgres, redis, migrations] = await Promise.all([
    timed(() => pingDb(runtime.db)),
    timed(() => pingProbe(runtime.redisProbe)),
    timed(async () => {
      const started = performance.now();
      pending = await pendingMigrations(runtime.db);
      if (pending.length > 0) throw new Error(`${pending.length} pending`);
      return performance.now() - started;
    }),
  ]);
  const healthy = postgres.status === 'up' && redis.status === 'up' && migrations.status === 'up';
  return {
    status: healthy ? 'ok' : 'degraded',
    version: VERSION,
    uptime_s: Math.round((Date.now() - runtime.startedAt) / 1000),
    dependencies: { postgres, redis, migrations: pending?.length ? { ...migrations, pending } : migrations },
  };
}
