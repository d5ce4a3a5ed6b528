/**
 * Losing nothing (docs/architecture.md › Losing nothing) with real worker processes: a worker stopped with SIGTERM hands
 * its job back, a worker killed with SIGKILL loses the attempt but not the job, and after Redis
 * loses everything, reconcile re-queues what PostgreSQL says is queued and fails what no worker
 * can finish.
 */
import { describe, expect, it } from 'vitest';
import { reconcile } from '../../scheduler/reconcile.ts';
import { useTestApi } from '../support/api.ts';
import { deleteKeysWithPrefix } from '../../shared/redis.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { type JobJson, startWorker, stopWorker, submit, waitForJob, waitForRow } from './support.ts';

// Short locks so that a dead worker's job is noticed within seconds.
const LOCK = { JOB_LOCK_MS: '2000' };
const env = useTestEnvironment(LOCK);
const api = useTestApi(env);

/** A diffusion job of a few seconds on one kernel thread. */
const longJob = {
  type: 'diffusion',
  lattice: { shape: [100, 100] },
  params: { steps: 3000, alpha: 0.2, sources: [{ cell: [50, 50], value: 1 }] },
};

async function resultRows(jobId: string): Promise<number> {
  const [row] = await env.db('job_results').where({ job_id: jobId }).count<{ count: string }[]>('* as count');
  return Number(row?.count);
}

describe('worker crashes', () => {
  it('a worker stopped with SIGTERM hands its running job back, and another finishes it', { timeout: 240_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    // Half of the grace period goes to letting jobs finish; this one needs far longer than that
    // even on idle cores (several seconds), so it is handed back, not finished.
    const first = await startWorker(env, { ...LOCK, SHUTDOWN_GRACE_MS: '2000' });
    const job = await submit(api, tenant.headers, { ...longJob, params: { ...longJob.params, steps: 400_000 } });
    await waitForRow(env.db, job.id, (r) => r.status === 'running');
    await stopWorker(first);
    expect(first.output()).toMatch(/handed back to its queue/);
    expect(await env.db('jobs').where({ id: job.id }).first('status', 'attempts')).toEqual({ status: 'queued', attempts: 0 });

    const second = await startWorker(env, LOCK);
    const done = await waitForJob(api, tenant.headers, job.id, 180_000);
    expect(done).toMatchObject({ status: 'completed', attempts: 1 });
    expect(await resultRows(job.id)).toBe(1);
    await stopWorker(second);
  });

  it('a worker killed mid-job loses the attempt, not the job: it completes on another worker, once', { timeout: 120_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const first = await startWorker(env, LOCK);
    const job = await submit(api, tenant.headers, longJob);
    await waitForRow(env.db, job.id, (r) => r.status === 'running');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startWorker(env, LOCK);
    const done = await waitForJob(api, tenant.headers, job.id, 60_000);
    expect(done).toMatchObject({ status: 'completed', attempts: 2, error: null });
    expect(done.result).toMatchObject({ total_heat: expect.any(Number) });
    expect(await resultRows(job.id)).toBe(1);
    expect(second.output()).toMatch(/job stalled/);
    await stopWorker(second);
  });

  it('after Redis loses everything, reconcile re-queues the queued jobs and fails the one whose worker died', { timeout: 120_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const worker = await startWorker(env, LOCK);
    const running = await submit(api, tenant.headers, longJob);
    await waitForRow(env.db, running.id, (r) => r.status === 'running');
    worker.child.kill('SIGKILL');
    await worker.exited;
    const queued: JobJson[] = [];
    for (let i = 0; i < 20; i++) {
      queued.push(await submit(api, tenant.headers, { type: 'shortest_path', lattice: { shape: [4, 4] }, params: { start: [0, 0], end: [3, i % 4] } }));
    }
    await deleteKeysWithPrefix(env.redis, env.redisPrefix);

    // The dead worker's heartbeat must be older than `staleAfterMs` for its job to count as lost.
    await new Promise((r) => setTimeout(r, 1200));
    const runtime = env.runtime(LOCK);
    expect(await reconcile(runtime, { queuedMinAgeMs: 0, staleAfterMs: 1000 })).toEqual({ requeued: 20, failed: 1 });
    // A second pass finds nothing to repair.
    expect(await reconcile(runtime, { queuedMinAgeMs: 0, staleAfterMs: 1000 })).toEqual({ requeued: 0, failed: 0 });

    const lost = await waitForJob(api, tenant.headers, running.id);
    expect(lost).toMatchObject({ status: 'failed', error: { code: 'worker_lost' }, result: null });
    const next = await startWorker(env, LOCK);
    const finished = await Promise.all(queued.map((job) => waitForJob(api, tenant.headers, job.id)));
    for (const [i, job] of finished.entries()) {
      expect(job).toMatchObject({ status: 'completed', attempts: 1, result: { reachable: true, length: 3 + (i % 4) } });
    }
    await stopWorker(next);
  });
});
