/**
 * A single job whose kernel runs inline (worker/job-runner.ts › runTiny, docs/architecture.md ›
 * The job pipeline): its row is read, never started, and its final write records its attempt,
 * worker, start and run time with its result — one write instead of two. Its attempt counts the
 * times its entry came back from a lost worker (BullMQ's stalled count); a cancel between its
 * kernel and its final write wins; a row already final is dropped; a kernel error, a job too large
 * to run inline and a shutdown before the run are left to the one-job path or handed back.
 */
import { describe, expect, it } from 'vitest';
import type { JobRow } from '../../shared/jobs/types.ts';
import { workerWriteBatchSize } from '../../shared/metrics.ts';
import { jobChannel } from '../../shared/queues/names.ts';
import { duplicateRedis } from '../../shared/redis.ts';
import type { HeldJob, KernelRunner } from '../../worker/job-runner.ts';
import { KernelError } from '../../worker/kernels/kernel-errors.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { testHeldEntry, testJobRunner } from './test-job-runner.ts';

const env = useTestEnvironment();


/** A queued single job (its own entry), with overrides of its row. */
async function singleJob(tenantId: string, row: Partial<JobRow> = {}): Promise<JobRow> {
  const [inserted] = (await env.db('jobs')
    .insert({ tenant_id: tenantId, type: 'shortest_path', lattice: { shape: [4, 4] }, params: { start: [0, 0], end: [3, 3] }, cells: 16, ...row })
    .returning('*')) as JobRow[];
  return inserted!;
}

/** The held entry of a single job, as the fetcher hands it over; what BullMQ is told goes to `told`. */
const heldOf = (row: JobRow, told: string[], stalledCounter = 0): HeldJob => testHeldEntry(row.id, row.tenant_id, told, { stalledCounter });

const writes = async (write: string): Promise<number> =>
  (await workerWriteBatchSize.get()).values
    .filter((v) => v.labels.write === write && v.metricName === 'catalytic_worker_write_batch_size_count')
    .reduce((sum, v) => sum + v.value, 0);

/** Kernels that answer inline with the job's end, or refuse to (null). */
function inlineKernels(inline: (params: { end: number[] }) => Promise<object> | undefined, run?: KernelRunner['run']): KernelRunner {
  return {
    run:
      run ??
      (async () => {
        throw new Error('this job does not take the one-job path');
      }),
    runInline: (_type, _spec, params) => inline(params as { end: number[] }),
  };
}

const rowOf = async (id: string): Promise<JobRow> => (await env.db('jobs').where({ id }).first()) as JobRow;

describe('a single job that runs inline', () => {
  it('ends in one write with its attempt, worker, start, run time and result, never marked running', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const row = await singleJob(tenant.tenantId);
    const told: string[] = [];
    const runner = testJobRunner(env, inlineKernels((params) => Promise.resolve({ reached: params.end })));
    const subscriber = duplicateRedis(env.redis, 'test:single-inline');
    const heard: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => heard.push((JSON.parse(message) as { status: string }).status));
    try {
      await subscriber.subscribe(jobChannel(env.redisPrefix, row.id));
      const [starts0, reads0, finishes0] = [await writes('start'), await writes('read'), await writes('finish')];
      await runner.run(heldOf(row, told));
      expect([await writes('start'), await writes('read'), await writes('finish')]).toEqual([starts0, reads0 + 1, finishes0 + 1]);
      const final = await rowOf(row.id);
      expect(final).toMatchObject({ status: 'completed', attempts: 1, worker_id: 'test-worker', progress: 1 });
      expect(final.started_at).not.toBeNull();
      expect(final.run_ms).not.toBeNull();
      expect(final.queue_wait_ms).not.toBeNull();
      expect(final.started_at!.getTime()).toBeGreaterThanOrEqual(final.created_at.getTime());
      expect(((await env.db('job_results').where({ job_id: row.id }).first('result')) as { result: unknown }).result).toMatchObject({ reached: [3, 3] });
      expect(told).toEqual(['completed: completed']);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard).toEqual(['completed']);
    } finally {
      subscriber.disconnect();
    }
  });

  it('counts the attempts its lost workers did not record, from a queued row and from one left running', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const runner = testJobRunner(env, inlineKernels(() => Promise.resolve({ ok: true })));
    const cases: Array<{ row: Partial<JobRow>; stalled: number; attempt: number; worker: string }> = [
      { row: {}, stalled: 0, attempt: 1, worker: 'test-worker' },
      // Two workers lost it on this path: the row recorded nothing.
      { row: {}, stalled: 2, attempt: 3, worker: 'test-worker' },
      // A retry recorded its attempt on the row; the entry never stalled.
      { row: { attempts: 1 }, stalled: 0, attempt: 2, worker: 'test-worker' },
      // A worker died running it on the one-job path (the row says running, attempt 1), its entry
      // came back once. The final write keeps a running row's start and worker, as a chunk's does.
      { row: { status: 'running', attempts: 1, worker_id: 'dead-worker', started_at: new Date() }, stalled: 1, attempt: 2, worker: 'dead-worker' },
    ];
    for (const { row: overrides, stalled, attempt, worker } of cases) {
      const row = await singleJob(tenant.tenantId, overrides);
      const told: string[] = [];
      await runner.run(heldOf(row, told, stalled));
      expect(await rowOf(row.id), JSON.stringify({ overrides, stalled })).toMatchObject({ status: 'completed', attempts: attempt, worker_id: worker });
      expect(told).toEqual(['completed: completed']);
    }
  });

  it('fails as exhausted, without running it, once lost workers have used up its attempts on this path', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    let ran = 0;
    const runner = testJobRunner(env, inlineKernels(() => (ran++, Promise.resolve({ ok: true }))));
    // Three workers were lost running it inline (max_attempts 3), none of which recorded a start:
    // the one-job path that takes over must count on from three, not from the row's zero.
    const row = await singleJob(tenant.tenantId, { max_attempts: 3 });
    const told: string[] = [];
    await runner.run(heldOf(row, told, 3));
    const final = await rowOf(row.id);
    expect(final).toMatchObject({ status: 'failed', attempts: 4 });
    expect((final.error as { code: string } | null)?.code).toBe('attempts_exhausted');
    expect(ran).toBe(0);
  });

  it('keeps no result when a cancel comes between its kernel and its final write, and drops a row already final', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const victim = await singleJob(tenant.tenantId);
    const runner = testJobRunner(
      env,
      inlineKernels(() =>
        env
          .db('jobs')
          .where({ id: victim.id })
          .update({ cancel_requested_at: env.db.fn.now() })
          .then(() => ({ ok: true })),
      ),
    );
    const told: string[] = [];
    await runner.run(heldOf(victim, told));
    expect(await rowOf(victim.id)).toMatchObject({ status: 'cancelled' });
    expect(await env.db('job_results').where({ job_id: victim.id }).first()).toBeUndefined();
    expect(told).toEqual(['completed: completed']);

    const cancelled = await singleJob(tenant.tenantId, { status: 'cancelled', cancel_requested_at: new Date(), finished_at: new Date() });
    let ran = false;
    const untouched = testJobRunner(
      env,
      inlineKernels(() => {
        ran = true;
        return Promise.resolve({});
      }),
    );
    const told2: string[] = [];
    const starts0 = await writes('start');
    await untouched.run(heldOf(cancelled, told2));
    expect(ran).toBe(false);
    // Dropped on its read: no start write was tried.
    expect(await writes('start')).toBe(starts0);
    expect(told2).toEqual(['completed: dropped']);
    expect(await rowOf(cancelled.id)).toMatchObject({ status: 'cancelled', attempts: 0 });
  });

  it('leaves a failing kernel and a job too large to run inline to the one-job path', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const failing = await singleJob(tenant.tenantId, { params: { start: [0, 0], end: [3, 2] } });
    const large = await singleJob(tenant.tenantId, { params: { start: [0, 0], end: [3, 1] } });
    const ranOnThePath: number[][] = [];
    const runner = testJobRunner(
      env,
      inlineKernels(
        (params) => {
          if (params.end[1] === 2) return Promise.reject(new KernelError('too_large', 'too large for this worker'));
          return undefined;
        },
        async (_type, _spec, params) => {
          const { end } = params as { end: number[] };
          ranOnThePath.push(end);
          if (end[1] === 2) throw new KernelError('too_large', 'too large for this worker');
          await new Promise((resolve) => setTimeout(resolve, 20));
          return { large: true };
        },
      ),
    );
    const starts0 = await writes('start');
    const toldFailing: string[] = [];
    const toldLarge: string[] = [];
    await runner.run(heldOf(failing, toldFailing));
    await runner.run(heldOf(large, toldLarge));
    expect(ranOnThePath).toEqual([
      [3, 2],
      [3, 1],
    ]);
    // Both were started by the one-job path's start write, and decided there.
    expect((await writes('start')) - starts0).toBe(2);
    expect(await rowOf(failing.id)).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'too_large' } });
    expect(toldFailing).toEqual(['failed']);
    expect(await rowOf(large.id)).toMatchObject({ status: 'completed', attempts: 1 });
    expect(toldLarge).toEqual(['completed: completed']);
  });

  it('hands its entry back untouched when the worker shuts down before it ran', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const row = await singleJob(tenant.tenantId);
    let ran = false;
    const runner = testJobRunner(
      env,
      inlineKernels(() => {
        ran = true;
        return Promise.resolve({});
      }),
    );
    const told: string[] = [];
    const held = heldOf(row, told);
    runner.stop(held, 'shutdown');
    await runner.run(held);
    expect(ran).toBe(false);
    expect(told).toEqual(['wait']);
    expect(await rowOf(row.id)).toMatchObject({ status: 'queued', attempts: 0, started_at: null });
  });
});
