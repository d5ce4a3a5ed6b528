/**
 * Start-up checks that PostgreSQL and Redis answer. A failure becomes one line naming the
 * dependency, where it was looked for and how to start it.
 */
import type { Config } from './config.ts';
import { ensureDatabase } from './db.ts';
import { closeRedis, createRedisFromConfig } from './redis.ts';

export class DependencyError extends Error {
  override readonly name = 'DependencyError';
}

function hostPort(url: string, defaultPort: number): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || defaultPort}`;
}

function reason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? String(err);
}

/** Creates the database when missing (and so proves PostgreSQL answers). */
export async function checkPostgres(config: Config): Promise<void> {
  try {
    if (config.DATABASE_CREATE) await ensureDatabase(config.DATABASE_URL);
    else {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5000 });
      client.on('error', () => undefined);
      await client.connect();
      await client.end();
    }
  } catch (err) {
    throw new DependencyError(
      `PostgreSQL does not answer at ${hostPort(config.DATABASE_URL, 5432)} (${reason(err)}). ` +
        'Start it with `docker compose -f compose/docker-compose.yml up -d postgres`, or on Debian ' +
        '`apt-get install postgresql && pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.',
    );
  }
}

export async function checkRedis(config: Config): Promise<void> {
  const redis = createRedisFromConfig(config, 'catalytic:startup-check', 'probe');
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out')), 3000);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
      redis.once('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    await redis.ping();
  } catch (err) {
    throw new DependencyError(
      `Redis does not answer at ${config.REDIS_CLUSTER_NODES ? `cluster ${config.REDIS_CLUSTER_NODES}` : hostPort(config.REDIS_URL, 6379)} (${reason(err)}). ` +
        'Start it with `docker compose -f compose/docker-compose.yml up -d redis`, or on Debian ' +
        '`apt-get install redis-server && redis-server --daemonize yes`.',
    );
  } finally {
    await closeRedis(redis);
  }
}
