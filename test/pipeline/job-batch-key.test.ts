/**
 * A deleted batch is forgotten by its jobs (migration 0030: a statement trigger instead of the
 * foreign key's `on delete set null`): their `batch_id` is cleared, other batches' jobs keep
 * theirs, and a tenant's deletion, which takes its batches and jobs together, goes through.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();

async function batchOf(tenantId: string, count: number): Promise<{ batchId: string; ids: string[] }> {
  const batchId = randomUUID();
  await env.db('batches').insert({ id: batchId, tenant_id: tenantId, total: count, unfinished: count });
  const rows = (await env.db('jobs')
    .insert(
      Array.from({ length: count }, (_, i) => ({
        tenant_id: tenantId, type: 'shortest_path', lattice: { shape: [4, 4] }, params: { start: [0, 0], end: [3, 3] }, cells: 16, batch_id: batchId, batch_index: i,
      })),
    )
    .returning('id')) as Array<{ id: string }>;
  return { batchId, ids: rows.map((r) => r.id) };
}

const batchIdsOf = async (ids: readonly string[]): Promise<Array<string | null>> =>
  ((await env.db('jobs').whereIn('id', [...ids]).select('batch_id')) as Array<{ batch_id: string | null }>).map((r) => r.batch_id);

describe('a deleted batch', () => {
  it('leaves its jobs without a batch, and the others as they were', async () => {
    const tenant = await createTestTenant(env.db);
    const gone = await batchOf(tenant.tenantId, 4);
    const kept = await batchOf(tenant.tenantId, 3);
    await env.db('batches').where({ id: gone.batchId }).del();
    expect(await batchIdsOf(gone.ids)).toEqual([null, null, null, null]);
    expect(await batchIdsOf(kept.ids)).toEqual([kept.batchId, kept.batchId, kept.batchId]);

    const other = await createTestTenant(env.db);
    const theirs = await batchOf(other.tenantId, 2);
    await env.db('tenants').where({ id: other.tenantId }).del();
    expect(await batchIdsOf(theirs.ids)).toEqual([]);
    expect(await env.db('batches').where({ id: theirs.batchId }).first()).toBeUndefined();
  });
});
