/**
 * The batch counter on `jobs` (migrations 0016 and 0031) counts a batch's jobs as they reach a
 * final state — completed, failed or cancelled — and nothing else: the writes that end no batch
 * job (starts, heartbeats, progress, a job of no batch ending) return before counting and leave
 * every batch as it was.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { finishAttempts, recordProgress, startAttempts, touchRunningJobs } from '../../shared/jobs/transitions.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();

async function queuedBatch(tenantId: string, count: number): Promise<{ batchId: string; ids: string[] }> {
  const batchId = randomUUID();
  await env.db('batches').insert({ id: batchId, tenant_id: tenantId, total: count, unfinished: count });
  const { rows } = (await env.db.raw(
    `insert into jobs (tenant_id, type, lattice, params, cells, batch_id, batch_index, queue_entry)
     select ?, 'shortest_path', '{"shape":[8,8]}', '{"start":[0,0],"end":[7,7]}', 64, ?, g, ? || '.0'
       from generate_series(0, ? - 1) g
     returning id, batch_index`,
    [tenantId, batchId, batchId, count],
  )) as { rows: Array<{ id: string; batch_index: number }> };
  return { batchId, ids: rows.sort((a, b) => a.batch_index - b.batch_index).map((r) => r.id) };
}

async function batchState(batchId: string): Promise<{ unfinished: number; completed: boolean }> {
  const row = (await env.db('batches').where({ id: batchId }).first('unfinished', 'completed_at')) as { unfinished: number; completed_at: Date | null };
  return { unfinished: row.unfinished, completed: row.completed_at !== null };
}

describe('the batch counter', () => {
  it('counts each final state of a batch job once, and no start, heartbeat, progress or job of no batch', async () => {
    const { tenantId } = await createTestTenant(env.db);
    const { batchId, ids } = await queuedBatch(tenantId, 3);
    const [single] = (await env.db('jobs')
      .insert({ tenant_id: tenantId, type: 'shortest_path', lattice: { shape: [4, 4] }, params: { start: [0, 0], end: [3, 3] }, cells: 16 })
      .returning('id')) as Array<{ id: string }>;
    const all = [...ids, single!.id].map((jobId) => ({ tenantId, jobId }));

    const started = await startAttempts(env.db, 'test-worker', all);
    expect(started.map((row) => row?.status)).toEqual(['running', 'running', 'running', 'running']);
    await touchRunningJobs(env.db, all.map((j) => j.jobId));
    await recordProgress(env.db, ids[0]!, 1, 0.5);
    expect(await batchState(batchId)).toEqual({ unfinished: 3, completed: false });

    // A job of no batch ending changes no batch.
    await env.db.transaction((trx) => finishAttempts(trx, [{ tenantId, jobId: single!.id, attempt: 1, status: 'completed', result: { ok: true } }]));
    expect(await batchState(batchId)).toEqual({ unfinished: 3, completed: false });

    // Each kind of final state counts.
    await env.db.transaction((trx) => finishAttempts(trx, [{ tenantId, jobId: ids[0]!, attempt: 1, status: 'completed', result: { ok: true } }]));
    expect(await batchState(batchId)).toEqual({ unfinished: 2, completed: false });
    await env.db.transaction((trx) => finishAttempts(trx, [{ tenantId, jobId: ids[1]!, attempt: 1, status: 'failed', error: { code: 'x', message: 'x' } }]));
    expect(await batchState(batchId)).toEqual({ unfinished: 1, completed: false });
    await env.db.transaction((trx) => finishAttempts(trx, [{ tenantId, jobId: ids[2]!, attempt: 1, status: 'cancelled' }]));
    expect(await batchState(batchId)).toEqual({ unfinished: 0, completed: true });

    // A final row written again (no longer unfinished) is not counted twice.
    await env.db('jobs').where({ id: ids[0] }).update({ updated_at: env.db.fn.now() });
    expect(await batchState(batchId)).toEqual({ unfinished: 0, completed: true });
  });
});
