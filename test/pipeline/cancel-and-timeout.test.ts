/**
 * Cancelling (a queued job never runs; a running one stops within a second on whichever worker
 * process holds it) and the plan's runtime limit, which covers a components job's streamed labels
 * too. Cancelled and timed-out jobs never keep a result.
 */
import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { JobRow } from '../../shared/jobs/types.ts';
import type { PipelineJobData } from '../../shared/queues/tenant-queues.ts';
import type { KernelRunner } from '../../worker/job-runner.ts';
import { tenantQueueKey } from '../../shared/queues/names.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import type { CatalyticProcess } from '../support/processes.ts';
import { createTestTenant } from '../support/tenants.ts';
import { holdQueueing, json, type JobJson, readEvents, startWorker, stopWorker, submit, waitForJob, waitForRow } from './support.ts';
import { testJobRunner } from './test-job-runner.ts';

const env = useTestEnvironment();
const api = useTestApi(env);

const longJob = {
  type: 'diffusion',
  lattice: { shape: [100, 100] },
  // 10^10 cell-steps: a minute even on the fused stencil, within the professional plan's units per job.
  params: { steps: 1_000_000, alpha: 0.2, sources: [{ cell: [50, 50], value: 1 }] },
};
const tinyJob = { type: 'shortest_path', lattice: { shape: [3, 3] }, params: { start: [0, 0], end: [2, 2] } };

async function resultRows(jobId: string): Promise<number> {
  const [row] = await env.db('job_results').where({ job_id: jobId }).count<{ count: string }[]>('* as count');
  return Number(row?.count);
}

describe('cancel and runtime limit', () => {
  let workers: CatalyticProcess[] = [];

  it('a cancelled queued job is removed from its queue and never runs', { timeout: 120_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const job = await submit(api, tenant.headers, tinyJob);
    // A submission is answered once its row is committed; its queueing follows.
    await api.deps.jobs.submissionsQueued(tenant.tenantId);
    expect(await env.redis.exists(tenantQueueKey(env.redisPrefix, tenant.tenantId, job.id))).toBe(1);
    const cancel = await api.request(`/api/jobs/${job.id}`, { method: 'DELETE', headers: tenant.headers });
    expect(cancel.status).toBe(200);
    expect(await json<JobJson>(cancel)).toMatchObject({ status: 'cancelled', started_at: null, attempts: 0 });
    expect(await env.redis.exists(tenantQueueKey(env.redisPrefix, tenant.tenantId, job.id))).toBe(0);
    // Cancelling again changes nothing.
    const again = await api.request(`/api/jobs/${job.id}`, { method: 'DELETE', headers: tenant.headers });
    expect(again.status).toBe(200);

    workers = await Promise.all([startWorker(env), startWorker(env)]);
    const after = await submit(api, tenant.headers, tinyJob);
    expect((await waitForJob(api, tenant.headers, after.id)).status).toBe('completed');
    const row = await env.db('jobs').where({ id: job.id }).first('status', 'started_at', 'attempts');
    expect(row).toEqual({ status: 'cancelled', started_at: null, attempts: 0 });
    expect(await resultRows(job.id)).toBe(0);
    const result = await api.request(`/api/jobs/${job.id}/result`, { headers: tenant.headers });
    expect(result.status).toBe(409);
    expect(await result.json()).toMatchObject({ code: 'job_without_result', job_status: 'cancelled' });
  });

  it('a job cancelled while its queueing is still on its way is not left on its queue', async () => {
    const tenant = await createTestTenant(env.db);
    const { held, release, restore } = holdQueueing(api);
    try {
      const job = await submit(api, tenant.headers, tinyJob);
      expect(held).toHaveBeenCalled();
      const cancelling = api.request(`/api/jobs/${job.id}`, { method: 'DELETE', headers: tenant.headers });
      // The cancel has committed by now; the queueing lands after it.
      await waitForRow(env.db, job.id, (r) => r.status === 'cancelled');
      release();
      const cancel = await cancelling;
      expect(cancel.status).toBe(200);
      await api.deps.jobs.submissionsQueued(tenant.tenantId);
      expect(await env.redis.exists(tenantQueueKey(env.redisPrefix, tenant.tenantId, job.id))).toBe(0);
    } finally {
      restore();
    }
  });

  it('a cancelled running job stops within a second, on whichever worker holds it', { timeout: 120_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const job = await submit(api, tenant.headers, longJob);
    const events = readEvents(`${api.url}/api/jobs/${job.id}/events`, tenant.headers);
    await waitForRow(env.db, job.id, (r) => r.status === 'running' && r.progress > 0);
    const pending = await api.request(`/api/jobs/${job.id}/result`, { headers: tenant.headers });
    expect(pending.status).toBe(409);
    expect(await pending.json()).toMatchObject({ code: 'job_not_finished' });

    const asked = Date.now();
    const cancel = await api.request(`/api/jobs/${job.id}`, { method: 'DELETE', headers: tenant.headers });
    expect(cancel.status).toBe(202);
    expect(await json<JobJson>(cancel)).toMatchObject({ status: 'running' });
    await waitForRow(env.db, job.id, (r) => r.status === 'cancelled', 5000);
    expect(Date.now() - asked).toBeLessThan(1000);

    const stream = await events;
    expect(stream.events.at(-1)).toMatchObject({ event: 'status', data: { status: 'cancelled', result: null } });
    expect(await resultRows(job.id)).toBe(0);
    const done = await waitForJob(api, tenant.headers, job.id);
    expect(done).toMatchObject({ status: 'cancelled', attempts: 1, error: null, result: null });
    expect(done.run_ms).toBeGreaterThan(0);

    const finished = await submit(api, tenant.headers, tinyJob);
    await waitForJob(api, tenant.headers, finished.id);
    const late = await api.request(`/api/jobs/${finished.id}`, { method: 'DELETE', headers: tenant.headers });
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ code: 'job_finished', job_status: 'completed' });
  });

  it("fails a job that runs past its plan's runtime limit, with code timeout", { timeout: 120_000 }, async () => {
    // Workers read plans afresh every few seconds; this tenant's plan is changed before its first job.
    await env.db('plans').where({ code: 'starter' }).update({ max_job_runtime_ms: 300 });
    const tenant = await createTestTenant(env.db, { plan: 'starter' });
    const job = await submit(api, tenant.headers, { ...longJob, lattice: { shape: [50, 50, 3] }, params: { ...longJob.params, steps: 100_000, alpha: 0.1, sources: [{ cell: [25, 25, 1], value: 1 }] } });
    const done = await waitForJob(api, tenant.headers, job.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'timeout' }, result: null });
    expect(done.run_ms).toBeGreaterThanOrEqual(300);
    expect(await resultRows(job.id)).toBe(0);
    await Promise.all(workers.map(stopWorker));
  });
});

describe('runtime limit and streamed labels', () => {
  it("fails a components job whose labels still stream at its plan's limit, as a kernel timeout, and keeps none of them", { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db, { plan: 'professional' });
    const [row] = (await env.db('jobs')
      .insert({ tenant_id: tenant.tenantId, type: 'components', lattice: { shape: [40, 40] }, params: {}, artefacts: ['labels'], cells: 1600 })
      .returning('*')) as [JobRow];
    const signals: AbortSignal[] = [];
    // The kernel answers at once; labelling a slab takes until it is stopped (or 10 s, then labels nothing).
    const kernels: KernelRunner = {
      run: async () => ({ count: 1 }),
      threads: 1,
      labelSlab: (_slab, signal) =>
        new Promise<number>((resolve, reject) => {
          signals.push(signal!);
          const timer = setTimeout(() => resolve(0), 10_000);
          signal!.addEventListener('abort', () => (clearTimeout(timer), reject(new Error('label_slab cancelled'))), { once: true });
        }),
    };
    const runner = testJobRunner(env, kernels);
    const told: string[] = [];
    const tell = (what: string) => async () => void told.push(what);
    await runner.run({
      id: row.id,
      tenantId: tenant.tenantId,
      token: 'token',
      job: { moveToCompleted: tell('completed'), moveToFailed: tell('failed'), moveToDelayed: tell('delayed'), moveToWait: tell('wait') } as unknown as Job<PipelineJobData>,
      plan: { code: 'professional', weight: 4, max_concurrent_jobs: -1, max_job_runtime_ms: 300 },
      abort: new AbortController(),
      lockedAt: Date.now(),
    });
    await runner.close();

    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
    const final = await env.db('jobs').where({ id: row.id }).first('status', 'error');
    expect(final).toEqual({ status: 'failed', error: { code: 'timeout', message: "The job ran longer than the plan's limit of 300 ms" } });
    expect(await resultRows(row.id)).toBe(0);
    expect(await env.db('job_artefacts').where({ job_id: row.id }).first()).toBeUndefined();
    expect(await env.db('blobs').where({ tenant_id: tenant.tenantId }).first()).toBeUndefined();
  });
});
