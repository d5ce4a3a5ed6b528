/**
 * The `batch.completed` event counts every job of its batch when two writers end the batch's last
 * jobs at once: the second one waits for the first's lock on the batch's row, takes the count to
 * zero, and its event must include the first writer's jobs (migration 0032 reads the counts after
 * the lock, in a statement of its own).
 */
import { describe, expect, it } from 'vitest';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { insertEndpoint } from '../webhooks/fixtures.ts';

const env = useTestEnvironment();

/** A batch of `size` running jobs; returns the batch's id and its jobs' ids. */
async function runningBatch(tenantId: string, size: number): Promise<{ batchId: string; jobIds: string[] }> {
  const [batch] = (await env.db('batches').insert({ tenant_id: tenantId, total: size, unfinished: size }).returning('id')) as Array<{ id: string }>;
  const rows = (await env.db('jobs')
    .insert(
      Array.from({ length: size }, (_, i) => ({
        tenant_id: tenantId,
        type: 'shortest_path',
        lattice: { shape: [4, 4] },
        params: { start: [0, 0], end: [3, 3] },
        cells: 16,
        batch_id: batch!.id,
        batch_index: i,
        status: 'running',
        attempts: 1,
        started_at: new Date(),
      })),
    )
    .returning('id')) as Array<{ id: string }>;
  return { batchId: batch!.id, jobIds: rows.map((r) => r.id) };
}

/** Locks the backend `pid` waits for (other files' sessions on this server have their own). */
const locksAwaitedBy = async (pid: number): Promise<number> =>
  Number(((await env.db.raw<{ rows: Array<{ n: string }> }>('select count(*) as n from pg_locks where not granted and pid = ?', [pid])).rows[0]!.n));

describe('the batch.completed event', () => {
  it('counts the jobs of a writer the last writer waited for', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    await insertEndpoint(env.db, tenant.tenantId, 'http://127.0.0.1:9/hook', ['batch.completed']);
    for (let round = 0; round < 3; round++) {
      const { batchId, jobIds } = await runningBatch(tenant.tenantId, 6);
      const first = jobIds.slice(0, 4);
      const last = jobIds.slice(4);
      const end = (ids: string[], status: string) => ({ status, finished_at: new Date(), progress: 1, ids });
      const a = end(first, round === 2 ? 'failed' : 'completed');
      const b = end(last, 'completed');
      const one = await env.db.transaction();
      const two = await env.db.transaction();
      try {
        await one('jobs').whereIn('id', a.ids).update({ status: a.status, finished_at: a.finished_at, progress: a.progress });
        const pid = Number(((await two.raw<{ rows: Array<{ pid: number }> }>('select pg_backend_pid() as pid')).rows[0]!.pid));
        // The second writer ends the batch's last jobs while the first still holds the batch's row.
        const second = two('jobs').whereIn('id', b.ids).update({ status: b.status, finished_at: b.finished_at, progress: b.progress });
        const waiting = second.then(() => undefined);
        await expect.poll(() => locksAwaitedBy(pid), { timeout: 5_000 }).toBeGreaterThan(0);
        await one.commit();
        await waiting;
        await two.commit();
      } finally {
        if (!one.isCompleted()) await one.rollback();
        if (!two.isCompleted()) await two.rollback();
      }
      const deliveries = (await env.db('webhook_deliveries').where({ batch_id: batchId, event_type: 'batch.completed' }).select('payload')) as Array<{
        payload: { data: { batch: { total: number; counts: Record<string, number> } } };
      }>;
      expect(deliveries).toHaveLength(1);
      const { total, counts } = deliveries[0]!.payload.data.batch;
      expect(total).toBe(6);
      expect(counts).toEqual(round === 2 ? { completed: 2, failed: 4, cancelled: 0 } : { completed: 6, failed: 0, cancelled: 0 });
      const batch = (await env.db('batches').where({ id: batchId }).first('unfinished', 'completed_at')) as { unfinished: number; completed_at: Date | null };
      expect(batch.unfinished).toBe(0);
      expect(batch.completed_at).not.toBeNull();
    }
  });
});
