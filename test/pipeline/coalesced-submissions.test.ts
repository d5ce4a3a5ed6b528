/**
 * Tiny single submissions of one tenant written together share one queue entry
 * (shared/jobs/coalesced-entries.ts, docs/architecture.md › The job pipeline), over the API's own
 * submit code, real PostgreSQL and Redis, and real worker processes: the entry is the single-job
 * priority's (not a batch's), names its rows, and each row names it; every job completes with its
 * result; a job the worker would not run inline, and a submission with an Idempotency-Key, keep
 * an entry of their own; a job cancelled while queued never runs and the others do; reconcile
 * finds the rows' entry and queues nothing twice; and a worker killed with -9 mid-entry loses no
 * job: the entry comes back, the jobs already final are left alone, the others run as attempt 2.
 */
import { describe, expect, it } from 'vitest';
import { reconcile } from '../../scheduler/reconcile.ts';
import { SCOPES } from '../../shared/auth/principal.ts';
import { coalesceTinyJobs } from '../../shared/jobs/coalesced-entries.ts';
import type { NewJob } from '../../shared/jobs/repository.ts';
import type { JobRow } from '../../shared/jobs/types.ts';
import { tenantQueueKey } from '../../shared/queues/names.ts';
import type { JobSubmission } from '../../api/jobs/schemas.ts';
import type { KernelRunner } from '../../worker/job-runner.ts';
import { until } from '../harness/until.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { entryData, parsedSubmission, startWorker, stopWorker, waitingEntries } from './support.ts';
import { testHeldEntry, testJobRunner } from './test-job-runner.ts';

// Short locks, so that a killed worker's entry comes back within seconds.
const ENV = { JOB_LOCK_MS: '2000' };
const env = useTestEnvironment(ENV);
const api = useTestApi(env);

/** An 8×8 shortest path, told apart by its end cell; its length is 7 + (i % 8). */
const tiny = (i: number): JobSubmission => ({ type: 'shortest_path', lattice: { shape: [8, 8] }, params: { start: [0, 0], end: [7, i % 8] } });
/** 10,000 cells: past KERNEL_INLINE_MAX_CELLS (4,096), run on a kernel thread. */
const large: JobSubmission = { type: 'shortest_path', lattice: { shape: [100, 100] }, params: { start: [0, 0], end: [99, 99] } };
/** 64 cells but 100 steps: 6,400 of work, past the inline bound too. */
const longDiffusion: JobSubmission = { type: 'diffusion', lattice: { shape: [8, 8] }, params: { alpha: 0.1, steps: 100, sources: [{ cell: [4, 4], value: 1 }] } };

/**
 * Submits `bodies` in one turn of the event loop through the API's submit code (one group write
 * for those without a key), and waits for their queueing; answers the rows in order.
 */
async function submitTogether(tenant: TestTenant, bodies: JobSubmission[], keys: Array<string | undefined> = []): Promise<JobRow[]> {
  const service = api.deps.jobs;
  const principal = { kind: 'api_key' as const, tenantId: tenant.tenantId, userId: tenant.userId, apiKeyId: null, role: 'member' as const, scopes: new Set(SCOPES), planCode: 'professional' };
  const submitted = await Promise.all(bodies.map((body, i) => service.submit(principal, parsedSubmission(body), keys[i], '/api/jobs')));
  await service.submissionsQueued(tenant.tenantId);
  return submitted.map((s) => s.row);
}

const rowsOf = async (ids: readonly string[]): Promise<JobRow[]> => {
  const rows = (await env.db('jobs').whereIn('id', [...ids]).select('*')) as JobRow[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)!);
};

const resultCounts = async (ids: readonly string[]): Promise<Map<string, number>> => {
  const rows = (await env.db('job_results').whereIn('job_id', [...ids]).groupBy('job_id').select('job_id', env.db.raw('count(*)::int as n'))) as Array<{ job_id: string; n: number }>;
  return new Map(rows.map((r) => [r.job_id, r.n]));
};

describe('tiny single submissions written together', () => {
  it('share one entry of the single-job priority, and each completes with its own result', { timeout: 90_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const rows = await submitTogether(tenant, Array.from({ length: 20 }, (_, i) => tiny(i)));
    const entry = `${rows[0]!.id}.g`;
    // One entry in the queue's plain FIFO list: none among the prioritized (a batch's chunks are there).
    expect(await waitingEntries(env, tenant.tenantId)).toEqual([entry]);
    expect(await env.redis.zcard(tenantQueueKey(env.redisPrefix, tenant.tenantId, 'prioritized'))).toBe(0);
    const data = await entryData(env, tenant.tenantId, entry);
    expect(data).toEqual({ tenant_id: tenant.tenantId, job_ids: rows.map((r) => r.id), coalesced: true, memory_bytes: Math.max(...rows.map((r) => Number(r.memory_bytes))) });
    expect((await rowsOf(rows.map((r) => r.id))).map((r) => r.queue_entry)).toEqual(rows.map(() => entry));

    const worker = await startWorker(env, ENV);
    try {
      const done = await until(
        'every job completed',
        async () => {
          const now = await rowsOf(rows.map((r) => r.id));
          return now.every((r) => r.status === 'completed') ? now : undefined;
        },
        60_000,
      );
      expect(done.every((r) => r.attempts === 1 && r.worker_id !== null && r.started_at !== null)).toBe(true);
      const results = (await env.db('job_results').whereIn('job_id', rows.map((r) => r.id)).select('job_id', 'result')) as Array<{ job_id: string; result: { reachable: boolean; length: number } }>;
      const byId = new Map(results.map((r) => [r.job_id, r.result]));
      expect(results).toHaveLength(rows.length);
      rows.forEach((row, i) => expect(byId.get(row.id)).toMatchObject({ reachable: true, length: 7 + (i % 8) }));
      expect(await waitingEntries(env, tenant.tenantId)).toEqual([]);
    } finally {
      await stopWorker(worker);
    }
  });

  it('leave a job the worker would not run inline, and a submission with an Idempotency-Key, an entry of its own', async () => {
    const tenant = await createTestTenant(env.db);
    const bodies = [tiny(0), large, tiny(1), longDiffusion, tiny(2), tiny(3), tiny(4)];
    const keys = [undefined, undefined, undefined, undefined, undefined, 'key-a', 'key-b'];
    const rows = await submitTogether(tenant, bodies, keys);
    const [t0, big, t1, diffusion, t2, keyedA, keyedB] = rows as [JobRow, JobRow, JobRow, JobRow, JobRow, JobRow, JobRow];
    const entry = `${t0.id}.g`;
    expect(new Set(await waitingEntries(env, tenant.tenantId))).toEqual(new Set([entry, big.id, diffusion.id, keyedA.id, keyedB.id]));
    expect((await entryData(env, tenant.tenantId, entry))?.job_ids).toEqual([t0.id, t1.id, t2.id]);
    const stored = await rowsOf(rows.map((r) => r.id));
    expect(stored.map((r) => r.queue_entry)).toEqual([entry, null, entry, null, entry, null, null]);
    for (const single of [big, diffusion, keyedA, keyedB]) expect((await entryData(env, tenant.tenantId, single.id))?.job_ids).toBeUndefined();
  });

  it('are cut as chunks are (jobs and compute per entry), keyed and non-tiny jobs left out', () => {
    const job = (id: string, cells: number, idempotencyKey: string | null = null): NewJob =>
      ({ id, type: 'shortest_path', cells, params: {}, idempotencyKey, artefacts: null, queueEntry: 'stale' }) as unknown as NewJob;
    const jobs = [job('a', 16), job('b', 16), job('k', 16, 'key'), job('c', 5000), job('d', 16), job('e', 16), job('f', 16), job('g', 4080), job('h', 16)];
    coalesceTinyJobs(jobs, { inlineMaxCells: 4096, maxJobs: 3, maxCells: 4100 });
    // a b d: three jobs; e f: g would pass 4,100 cells; g h: together; k keyed, c too large.
    expect(jobs.map((j) => j.queueEntry)).toEqual(['a.g', 'a.g', null, null, 'a.g', 'e.g', 'e.g', 'g.g', 'g.g']);
    coalesceTinyJobs(jobs.slice(0, 1), { inlineMaxCells: 4096, maxJobs: 3, maxCells: 4100 });
    expect(jobs[0]?.queueEntry).toBeNull();
    coalesceTinyJobs(jobs, { inlineMaxCells: 0, maxJobs: 100, maxCells: 1e6 });
    expect(jobs.every((j) => j.queueEntry === null)).toBe(true);
  });

  it('run without a job cancelled while queued, which never runs', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const rows = await submitTogether(tenant, Array.from({ length: 5 }, (_, i) => tiny(i)));
    const victim = rows[2]!;
    const cancelled = await api.request(`/api/jobs/${victim.id}`, { method: 'DELETE', headers: tenant.headers });
    expect(cancelled.status).toBe(200);
    // The entry is still there (it is not the job's own); the worker finds the row cancelled.
    const entry = `${rows[0]!.id}.g`;
    const data = await entryData(env, tenant.tenantId, entry);
    expect(data?.job_ids).toEqual(rows.map((r) => r.id));

    const ran: number[] = [];
    const kernels: KernelRunner = {
      run: async () => {
        throw new Error('no job of this entry takes the one-job path');
      },
      runInline: (_type, _spec, params) => {
        const end = (params as { end: number[] }).end;
        ran.push(end[1]!);
        return Promise.resolve({ reachable: true, length: 7 + end[1]! });
      },
    };
    const told: string[] = [];
    await testJobRunner(env, kernels).run(testHeldEntry(entry, tenant.tenantId, told, { jobIds: data!.job_ids!, coalesced: true }));
    expect(ran).toEqual([0, 1, 3, 4]);
    expect(told).toEqual(['completed: chunk done']);
    const after = await rowsOf(rows.map((r) => r.id));
    expect(after.map((r) => r.status)).toEqual(['completed', 'completed', 'cancelled', 'completed', 'completed']);
    expect(after[2]).toMatchObject({ attempts: 0, worker_id: null, started_at: null });
    const results = await resultCounts(rows.map((r) => r.id));
    expect(rows.map((r) => results.get(r.id) ?? 0)).toEqual([1, 1, 0, 1, 1]);
  });

  it('are found by reconcile through their entry, and queued one by one only once it is lost', async () => {
    const tenant = await createTestTenant(env.db);
    const rows = await submitTogether(tenant, Array.from({ length: 6 }, (_, i) => tiny(i)));
    const entry = `${rows[0]!.id}.g`;
    const runtime = env.runtime(ENV);
    expect(await reconcile(runtime, { queuedMinAgeMs: 0 })).toEqual({ requeued: 0, failed: 0 });
    expect(await waitingEntries(env, tenant.tenantId)).toEqual([entry]);

    // Redis lost the entry: each row is queued on its own entry, once.
    expect(await api.deps.jobs.producer.remove(tenant.tenantId, entry)).toBe(true);
    expect(await reconcile(runtime, { queuedMinAgeMs: 0 })).toEqual({ requeued: 6, failed: 0 });
    expect(await reconcile(runtime, { queuedMinAgeMs: 0 })).toEqual({ requeued: 0, failed: 0 });
    expect(new Set(await waitingEntries(env, tenant.tenantId))).toEqual(new Set(rows.map((r) => r.id)));
  });

  it('lose no job to a worker killed mid-entry: the entry comes back, final jobs are left alone, the rest run as attempt 2', { timeout: 120_000 }, async () => {
    // The jobs earlier tests left queued end first: their final writes would join this entry's groups.
    await env.db('jobs').where({ status: 'queued' }).update({ status: 'cancelled', finished_at: env.db.fn.now(), cancel_requested_at: env.db.fn.now() });
    const tenant = await createTestTenant(env.db);
    const rows = await submitTogether(tenant, Array.from({ length: 12 }, (_, i) => tiny(i)));
    const ids = rows.map((r) => r.id);
    // Final writes of four jobs at a time; the second group's is held by a lock on one of its rows,
    // so the kill lands with the first four final and the other eight not.
    const workerEnv = { ...ENV, WORKER_WRITE_BATCH_MAX: '4' };
    const trx = await env.db.transaction();
    let first: Awaited<ReturnType<typeof startWorker>> | undefined;
    try {
      await trx('jobs').where({ id: ids[5] }).forUpdate().select('id');
      const { rows: [me] } = (await trx.raw('select pg_backend_pid() as pid')) as { rows: Array<{ pid: number }> };
      first = await startWorker(env, workerEnv);
      await until(
        'the first four final and the next write waiting',
        async () => {
          const done = (await rowsOf(ids)).filter((r) => r.status === 'completed').length;
          const { rows: waiting } = (await env.db.raw('select pid from pg_stat_activity where ? = any(pg_blocking_pids(pid))', [me!.pid])) as { rows: unknown[] };
          return done === 4 && waiting.length > 0 ? true : undefined;
        },
        60_000,
      );
      first.child.kill('SIGKILL');
      await first.exited;
      // The dead worker's waiting write dies with it (PostgreSQL would notice its socket only later).
      await env.db.raw('select pg_terminate_backend(pid) from pg_stat_activity where ? = any(pg_blocking_pids(pid))', [me!.pid]);
    } finally {
      await trx.rollback();
      if (first && first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
    }
    const atKill = await rowsOf(ids);
    expect(atKill.map((r) => r.status)).toEqual([...Array(4).fill('completed'), ...Array(8).fill('queued')]);
    expect(atKill.slice(4).every((r) => r.attempts === 0)).toBe(true);

    const second = await startWorker(env, ENV);
    try {
      const after = await until(
        'every job completed',
        async () => {
          const now = await rowsOf(ids);
          return now.every((r) => r.status === 'completed') ? now : undefined;
        },
        60_000,
      );
      // The four final at the kill are untouched; the rest ran once more, counted as attempt 2.
      expect(after.slice(0, 4)).toEqual(atKill.slice(0, 4));
      expect(after.slice(4).map((r) => r.attempts)).toEqual(Array(8).fill(2));
      const results = await resultCounts(ids);
      expect(ids.map((id) => results.get(id))).toEqual(ids.map(() => 1));
    } finally {
      await stopWorker(second);
    }
    expect(second.output()).toMatch(/job stalled/);
  });
});
