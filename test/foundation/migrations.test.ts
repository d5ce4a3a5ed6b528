import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../../shared/db.ts';
import { migrateDownAll, migrateLatest, pendingMigrations } from '../../shared/migrate.ts';
import { MIGRATIONS } from '../../migrations/index.ts';
import { createDatabase, databaseUrl, dropDatabase, freshDatabaseName } from '../support/postgres.ts';

const name = freshDatabaseName('migrations');
const db = createDb({ url: databaseUrl(name), poolMax: 4 });

async function tables(): Promise<string[]> {
  const rows = await db('pg_tables').where({ schemaname: 'public' }).select('tablename');
  return rows.map((r: { tablename: string }) => r.tablename).filter((t) => !t.startsWith('knex_')).sort();
}

afterAll(async () => {
  await db.destroy();
  await dropDatabase(name);
});

describe('migrations', () => {
  it('go up, down and up again on an empty database', async () => {
    await createDatabase(name);
    expect(await pendingMigrations(db)).toHaveLength(MIGRATIONS.length);

    expect(await migrateLatest(db)).toEqual(MIGRATIONS.map(([n]) => n));
    expect(await pendingMigrations(db)).toEqual([]);
    const created = await tables();
    expect(created).toEqual(
      [
        'account_tokens', 'api_keys', 'audit_log', 'batches', 'blob_chunks', 'blobs', 'idempotency_keys', 'job_artefacts', 'job_chunks', 'job_results', 'jobs', 'lattice_versions', 'lattices', 'notifications', 'plan_requests', 'plans',
        'refresh_tokens', 'tenants', 'usage_counters', 'users', 'webhook_deliveries', 'webhooks',
      ].sort(),
    );

    await migrateDownAll(db);
    expect(await tables()).toEqual([]);

    await migrateLatest(db);
    expect(await tables()).toEqual(created);
  });

  it('seed the four plans with their limits', async () => {
    const plans = await db('plans').orderBy('weight').select('code', 'weight', 'max_concurrent_jobs', 'max_lattices', 'max_dimensions', 'max_side', 'api_calls_per_month', 'price_cents');
    expect(plans).toEqual([
      { code: 'free', weight: 1, max_concurrent_jobs: 2, max_lattices: 5, max_dimensions: 3, max_side: 10, api_calls_per_month: 1000, price_cents: 0 },
      { code: 'starter', weight: 2, max_concurrent_jobs: 4, max_lattices: 50, max_dimensions: 5, max_side: 50, api_calls_per_month: 10000, price_cents: 2999 },
      { code: 'professional', weight: 4, max_concurrent_jobs: 16, max_lattices: 500, max_dimensions: 10, max_side: 100, api_calls_per_month: 100000, price_cents: 9999 },
      { code: 'enterprise', weight: 8, max_concurrent_jobs: 64, max_lattices: -1, max_dimensions: -1, max_side: -1, api_calls_per_month: -1, price_cents: 49999 },
    ]);
  });

  it('are safe when several processes migrate at once', async () => {
    const other = freshDatabaseName('race');
    await createDatabase(other);
    const replicas = [0, 1, 2].map(() => createDb({ url: databaseUrl(other), poolMax: 2 }));
    try {
      const applied = await Promise.all(replicas.map((r) => migrateLatest(r)));
      expect(applied.flat().sort()).toEqual(MIGRATIONS.map(([n]) => n).sort());
    } finally {
      await Promise.all(replicas.map((r) => r.destroy()));
      await dropDatabase(other);
    }
  });
});
