/**
 * The states of a batch chunk's jobs while the chunk runs (docs/architecture.md › Batches), with
 * real API, worker, PostgreSQL and Redis: taking a chunk writes none of its rows, so a job the
 * chunk has not reached reads `queued` and a job whose kernel runs reads `running` (attempt 1),
 * to GET /api/jobs/:id and to the batch's counts. Cancelling a job the chunk has not reached ends
 * it at once and it never runs; cancelling the running one (one job, by filter, the whole batch)
 * stops it. A worker stopped with SIGTERM hands the chunk back with no attempt counted. When the
 * chunk's worker dies and Redis loses the chunk, reconcile fails only the job whose kernel ran
 * (`worker_lost`) and queues the others, which then complete.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../scheduler/reconcile.ts';
import { deleteKeysWithPrefix } from '../../shared/redis.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import type { CatalyticProcess } from '../support/processes.ts';
import { type JobJson, json, startWorker as startWorkerProcess, stopWorker, waitForJob, waitForRow } from './support.ts';
import { until } from '../harness/until.ts';

// Short locks so that a dead worker is noticed within seconds; one chunk for the whole batch.
const ENV = { JOB_LOCK_MS: '2000', BATCH_CHUNK_MAX_CELLS: '1000000000000', BATCH_CHUNK_MAX_JOBS: '100' };
const env = useTestEnvironment(ENV);
const api = useTestApi(env);

// A worker a failed test left running would take the next test's chunk: each test's go with it.
const workers: CatalyticProcess[] = [];
async function startWorker(...args: Parameters<typeof startWorkerProcess>): Promise<CatalyticProcess> {
  const worker = await startWorkerProcess(...args);
  workers.push(worker);
  return worker;
}
afterEach(async () => {
  for (const worker of workers.splice(0)) {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) continue;
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
});

/** Diffusion jobs of 1.6·10^5 cells: steps × 1.6·10^5 cell-steps each, about 0.5 ns a cell-step (enterprise: sides of 400). */
function slowBatch(jobs: number, steps: number) {
  return {
    lattice: { shape: [400, 400] },
    defaults: { type: 'diffusion', params: { alpha: 0.2, sources: [{ cell: [50, 50], value: 1 }] } },
    jobs: Array.from({ length: jobs }, (_, i) => ({ params: { steps: steps + i } })),
  };
}

interface BatchJson {
  id: string;
  status: string;
  counts: Record<string, number>;
  job_ids?: string[];
}

interface Row {
  id: string;
  status: string;
  attempts: number;
  started_at: Date | null;
  run_ms: number | null;
}


describe('a running chunk', () => {
  it('after its worker is killed and Redis loses it, reconcile fails only the job that ran and queues the others, which complete', { timeout: 180_000 }, async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    const first = await startWorker(env, ENV);
    const res = await api.request('/api/batches', { body: slowBatch(5, 10_000), headers: tenant.headers });
    expect(res.status).toBe(202);
    const batch = await json<BatchJson>(res);
    const rows = () => env.db('jobs').where({ batch_id: batch.id }).orderBy('batch_index').select<Row[]>('id', 'status', 'attempts', 'started_at', 'run_ms');
    const ids = (await rows()).map((r) => r.id);
    await waitForRow(env.db, ids[0] as string, (r) => r.status === 'running', 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await rows();
    const ran = atKill.filter((r) => r.status === 'running');
    const waiting = atKill.filter((r) => r.status === 'queued');
    expect(ran.length).toBeGreaterThanOrEqual(1);
    expect(waiting.length).toBeGreaterThanOrEqual(1);
    expect(ran.length + waiting.length + atKill.filter((r) => r.status === 'completed').length).toBe(5);
    await deleteKeysWithPrefix(env.redis, env.redisPrefix);

    // The dead worker's heartbeat must be older than `staleAfterMs` for its job to count as lost.
    await new Promise((r) => setTimeout(r, 1200));
    const runtime = env.runtime(ENV);
    expect(await reconcile(runtime, { queuedMinAgeMs: 0, staleAfterMs: 1000 })).toEqual({ requeued: waiting.length, failed: ran.length });
    expect(await reconcile(runtime, { queuedMinAgeMs: 0, staleAfterMs: 1000 })).toEqual({ requeued: 0, failed: 0 });
    for (const row of ran) expect(await waitForJob(api, tenant.headers, row.id)).toMatchObject({ status: 'failed', error: { code: 'worker_lost' } });

    const second = await startWorker(env, ENV);
    for (const row of waiting) {
      expect(await waitForJob(api, tenant.headers, row.id, 120_000)).toMatchObject({ status: 'completed', attempts: 1, result: { total_heat: expect.any(Number) } });
    }
    await stopWorker(second);
    const results = (await env.db('job_results').whereIn('job_id', ids).groupBy('job_id').select('job_id', env.db.raw('count(*)::int as n'))) as Array<{ n: number }>;
    expect(results.length).toBe(5 - ran.length);
    expect(results.every((r) => r.n === 1)).toBe(true);
    expect(await env.db('batches').where({ id: batch.id }).first('unfinished', 'completed_at')).toMatchObject({ unfinished: 0, completed_at: expect.any(Date) });
  });
  it('reads queued and running truthfully; a cancel of an unreached job ends it unrun, of the running one (alone, by filter, by batch) stops it', { timeout: 180_000 }, async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    const worker = await startWorker(env, ENV);
    const res = await api.request('/api/batches', { body: slowBatch(6, 20_000), headers: tenant.headers });
    expect(res.status).toBe(202);
    const batch = await json<BatchJson>(res);
    const rows = () => env.db('jobs').where({ batch_id: batch.id }).orderBy('batch_index').select<Row[]>('id', 'status', 'attempts', 'started_at', 'run_ms');
    const ids = (await rows()).map((r) => r.id);
    const [first, second, , fourth] = ids as [string, string, string, string];

    await waitForRow(env.db, first, (r) => r.status === 'running', 60_000);
    const running = await json<JobJson>(await api.request(`/api/jobs/${first}`, { headers: tenant.headers }));
    expect(running).toMatchObject({ status: 'running', attempts: 1 });
    const waiting = await json<JobJson>(await api.request(`/api/jobs/${fourth}`, { headers: tenant.headers }));
    expect(waiting).toMatchObject({ status: 'queued', attempts: 0 });
    // The batch counts the rows as they are: running the ones whose kernels ran (the one before may
    // still wait for its final write), queued the rest.
    const during = await json<BatchJson>(await api.request(`/api/batches/${batch.id}`, { headers: tenant.headers }));
    expect(during.status).toBe('running');
    expect(during.counts.running).toBeGreaterThanOrEqual(1);
    expect(during.counts.queued).toBeGreaterThanOrEqual(4);
    expect((during.counts.running ?? 0) + (during.counts.queued ?? 0)).toBe(6);

    // The chunk has not reached the fourth job: it ends now and never runs.
    const unreached = await api.request(`/api/jobs/${fourth}`, { method: 'DELETE', headers: tenant.headers });
    expect(unreached.status).toBe(200);
    expect(await json<JobJson>(unreached)).toMatchObject({ status: 'cancelled' });

    // The running one stops within seconds and keeps no result.
    const stop = await api.request(`/api/jobs/${first}`, { method: 'DELETE', headers: tenant.headers });
    expect(stop.status).toBe(202);
    expect(await waitForJob(api, tenant.headers, first, 10_000)).toMatchObject({ status: 'cancelled', attempts: 1, result: null });

    // The next one is running now; a cancel by filter of the batch's running jobs stops it.
    await waitForRow(env.db, second, (r) => r.status === 'running', 60_000);
    const byFilter = await api.request('/api/jobs/cancel', { body: { batch_id: batch.id, status: 'running' }, headers: tenant.headers });
    expect(byFilter.status).toBe(200);
    expect(await byFilter.json()).toMatchObject({ cancelled: 0, stopping: 1 });
    expect(await waitForJob(api, tenant.headers, second, 10_000)).toMatchObject({ status: 'cancelled', attempts: 1, result: null });

    // The batch's DELETE ends the rest: the one running now stops, the queued ones never run.
    await until('a third job running', async () => ((await rows()).some((r) => r.status === 'running') ? true : undefined), 60_000);
    const all = await api.request(`/api/batches/${batch.id}`, { method: 'DELETE', headers: tenant.headers });
    expect(all.status).toBe(200);
    const ended = await until(
      'every job final',
      async () => {
        const now = await rows();
        return now.every((r) => r.status === 'cancelled') ? now : undefined;
      },
      30_000,
    );
    expect(await env.db('job_results').whereIn('job_id', ids).select('job_id')).toEqual([]);
    // The fourth job was cancelled before the chunk reached it: it has no start and no run time.
    expect(ended[3]).toMatchObject({ attempts: 0, started_at: null, run_ms: null });
    expect(ended.filter((r) => r.started_at !== null).every((r) => r.attempts === 1)).toBe(true);
    expect(await env.db('batches').where({ id: batch.id }).first('unfinished', 'completed_at')).toMatchObject({ unfinished: 0, completed_at: expect.any(Date) });
    expect(await env.db('job_chunks').where({ batch_id: batch.id }).select('attempts')).toEqual([{ attempts: 1 }]);
    await stopWorker(worker);
  });

  it('a worker stopped with SIGTERM hands the chunk back uncounted: its rows queued on attempt 0, then completed on attempt 1', { timeout: 240_000 }, async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    // Half of the grace period goes to letting jobs finish; the first kernel (1.6·10^10 cell-steps) needs far longer.
    const first = await startWorker(env, { ...ENV, SHUTDOWN_GRACE_MS: '2000' });
    const res = await api.request('/api/batches', { body: slowBatch(3, 100_000), headers: tenant.headers });
    expect(res.status).toBe(202);
    const batch = await json<BatchJson>(res);
    const rows = () => env.db('jobs').where({ batch_id: batch.id }).orderBy('batch_index').select<Row[]>('id', 'status', 'attempts', 'started_at', 'run_ms');
    const ids = (await rows()).map((r) => r.id);
    await waitForRow(env.db, ids[0] as string, (r) => r.status === 'running', 60_000);
    expect(await env.db('job_chunks').where({ batch_id: batch.id }).select('attempts')).toEqual([{ attempts: 1 }]);
    await stopWorker(first);
    expect((await rows()).map((r) => [r.status, r.attempts])).toEqual(ids.map(() => ['queued', 0]));
    expect(await env.db('job_chunks').where({ batch_id: batch.id }).select('attempts')).toEqual([{ attempts: 0 }]);

    const second = await startWorker(env, ENV);
    for (const id of ids) expect(await waitForJob(api, tenant.headers, id, 180_000)).toMatchObject({ status: 'completed', attempts: 1 });
    await stopWorker(second);
    expect(await env.db('job_chunks').where({ batch_id: batch.id }).select('attempts')).toEqual([{ attempts: 1 }]);
  });

});
