/**
 * A job's result row goes with the job (migration 0029: a statement trigger instead of the
 * foreign key's cascade): deleted by a tenant's own transaction, by a statement deleting many
 * jobs at once, and by a tenant's deletion through its cascade; other jobs' results stay. It is
 * indexed by its job's key alone (migration 0034): every read goes through that key, and
 * row-level security still keeps other tenants' results out.
 */
import { describe, expect, it } from 'vitest';
import { withTenant } from '../../shared/db.ts';
import { findResult } from '../../shared/jobs/repository.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();

async function completedJobs(tenantId: string, count: number): Promise<string[]> {
  const rows = (await env.db('jobs')
    .insert(
      Array.from({ length: count }, (_, i) => ({
        tenant_id: tenantId, type: 'shortest_path', status: 'completed', lattice: { shape: [4, 4] }, params: { start: [0, 0], end: [3, i % 4] }, cells: 16,
      })),
    )
    .returning('id')) as Array<{ id: string }>;
  await env.db('job_results').insert(rows.map((r) => ({ job_id: r.id, tenant_id: tenantId, result: { reachable: true, length: 6 } })));
  return rows.map((r) => r.id);
}

const resultsOf = async (ids: readonly string[]): Promise<string[]> =>
  ((await env.db('job_results').whereIn('job_id', [...ids]).select('job_id')) as Array<{ job_id: string }>).map((r) => r.job_id).sort();

describe('a job\'s result row', () => {
  it('is deleted with its job, by a tenant, by a many-row delete and by the tenant\'s deletion', async () => {
    const a = await createTestTenant(env.db);
    const b = await createTestTenant(env.db);
    const [one, two, ...many] = await completedJobs(a.tenantId, 6);
    const others = await completedJobs(b.tenantId, 3);

    // The tenant's own transaction (the application role, under row-level security).
    await withTenant(env.db, a.tenantId, (trx) => trx('jobs').where({ id: one }).del());
    expect(await resultsOf([one!, two!, ...many])).toEqual([two!, ...many].sort());

    // One statement deleting many jobs, as retention does.
    await env.db('jobs').whereIn('id', many).del();
    expect(await resultsOf([two!, ...many])).toEqual([two]);

    // The other tenant's deletion cascades to its jobs, and from them to their results.
    await env.db('tenants').where({ id: b.tenantId }).del();
    expect(await resultsOf(others)).toEqual([]);
    expect(await resultsOf([two!])).toEqual([two]);
  });

  it("is indexed by its job's key alone, read by it, and only by its own tenant", async () => {
    const indexes = (await env.db.raw(`select indexname from pg_indexes where tablename = 'job_results' order by indexname`)) as { rows: Array<{ indexname: string }> };
    expect(indexes.rows.map((r) => r.indexname)).toEqual(['job_results_pkey']);

    const a = await createTestTenant(env.db);
    const b = await createTestTenant(env.db);
    const [mine] = await completedJobs(a.tenantId, 1);
    const plan = await withTenant(env.db, a.tenantId, async (trx) => {
      const query = trx('job_results').where({ tenant_id: a.tenantId, job_id: mine }).first('result').toSQL().toNative();
      return ((await trx.raw(`explain ${query.sql.replace(/\$(\d+)/g, '?')}`, query.bindings as never[])) as { rows: Array<{ 'QUERY PLAN': string }> }).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
    });
    expect(plan).toContain('job_results_pkey');
    expect(await withTenant(env.db, a.tenantId, (trx) => findResult(trx, a.tenantId, mine!))).toEqual({ reachable: true, length: 6 });
    // Another tenant asking for it by its key, even naming its tenant: row-level security answers nothing.
    expect(await withTenant(env.db, b.tenantId, (trx) => findResult(trx, a.tenantId, mine!))).toBeUndefined();
  });
});
