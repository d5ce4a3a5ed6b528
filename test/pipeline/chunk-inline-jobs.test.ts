/**
 * A batch chunk's fast path (worker/job-runner.ts › runChunk, docs/architecture.md › Batches):
 * jobs whose kernel runs inline are run back to back and their final states handed to the group
 * commit together. Each job still ends once with its own result and its attempt, the entry is
 * told once, metrics count every job; a cancel that arrives between a job's kernel and its final
 * write wins (no result kept); a job too large to run inline, and one whose kernel fails, take the
 * one-job path from the middle of the chunk and are decided as before.
 */
import { describe, expect, it } from 'vitest';
import type { JobRow } from '../../shared/jobs/types.ts';
import { jobsFinished, kernelCells, workerWriteBatchSize } from '../../shared/metrics.ts';
import { jobChannel } from '../../shared/queues/names.ts';
import { duplicateRedis } from '../../shared/redis.ts';
import type { HeldJob, JobRunner, KernelRunner } from '../../worker/job-runner.ts';
import { KernelError } from '../../worker/kernels/kernel-errors.ts';
import { useTestEnvironment } from '../support/context.ts';
import { testHeldEntry, testJobRunner } from './test-job-runner.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();


/** A batch of `count` queued jobs in one chunk entry (`<batchId>.0`), each with its `tag`. */
async function chunkOf(tenantId: string, count: number): Promise<{ entry: string; rows: JobRow[] }> {
  const [batch] = (await env.db('batches').insert({ tenant_id: tenantId, total: count, unfinished: count }).returning('id')) as Array<{ id: string }>;
  const entry = `${batch!.id}.0`;
  const rows = (await env.db('jobs')
    .insert(
      Array.from({ length: count }, (_, tag) => ({
        tenant_id: tenantId,
        type: 'shortest_path',
        lattice: { shape: [4, 4] },
        params: { start: [0, 0], end: [3, 3], tag },
        cells: 16,
        batch_id: batch!.id,
        batch_index: tag,
        queue_entry: entry,
      })),
    )
    .returning('*')) as JobRow[];
  return { entry, rows };
}

function useRunner(kernels: KernelRunner): { runner: JobRunner; told: string[]; held: (entry: string, tenantId: string, jobIds: string[]) => HeldJob } {
  const told: string[] = [];
  const runner = testJobRunner(env, kernels, {}, 64);
  const held = (entry: string, tenantId: string, jobIds: string[]): HeldJob => testHeldEntry(entry, tenantId, told, { jobIds });
  return { runner, told, held };
}

const tagOf = (params: unknown): number => (params as { tag: number }).tag;

async function metric(get: () => Promise<{ values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }> }>, match: (v: { labels: Record<string, string | number>; metricName?: string }) => boolean): Promise<number> {
  return (await get()).values.filter(match).reduce((sum, v) => sum + v.value, 0);
}
const completedCount = () => metric(() => jobsFinished.get(), (v) => v.labels.status === 'completed' && v.labels.type === 'shortest_path' && v.labels.plan === 'enterprise');
const cellCount = () => metric(() => kernelCells.get(), (v) => v.labels.type === 'shortest_path');
const finishWrites = () => metric(() => workerWriteBatchSize.get(), (v) => v.labels.write === 'finish' && v.metricName === 'catalytic_worker_write_batch_size_count');

describe('a chunk of inline jobs', () => {
  it('ends each job once with its own result and attempt, in few writes, tells the entry once and counts every job', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const { entry, rows } = await chunkOf(tenant.tenantId, 100);
    const ranInline: number[] = [];
    const kernels: KernelRunner = {
      run: async () => {
        throw new Error('no job of this chunk takes the one-job path');
      },
      runInline: (_type, _spec, params) => {
        ranInline.push(tagOf(params));
        return Promise.resolve({ echo: params });
      },
    };
    const { runner, told, held } = useRunner(kernels);
    const [completed0, cells0, writes0] = [await completedCount(), await cellCount(), await finishWrites()];
    await runner.run(held(entry, tenant.tenantId, rows.map((r) => r.id)));

    expect(ranInline).toEqual(rows.map((r) => tagOf(r.params)));
    const final = (await env.db('jobs').whereIn('id', rows.map((r) => r.id)).select('id', 'status', 'attempts', 'worker_id', 'started_at', 'params')) as JobRow[];
    expect(final.every((r) => r.status === 'completed' && r.attempts === 1 && r.worker_id === 'test-worker' && r.started_at !== null)).toBe(true);
    const results = (await env.db('job_results').whereIn('job_id', rows.map((r) => r.id)).select('job_id', 'result')) as Array<{ job_id: string; result: { echo: unknown } }>;
    expect(results).toHaveLength(100);
    const paramsOf = new Map(final.map((r) => [r.id, r.params]));
    for (const result of results) expect(result.result.echo).toEqual(paramsOf.get(result.job_id));
    expect(told).toEqual(['completed: chunk done']);
    expect(await completedCount()).toBe(completed0 + 100);
    expect(await cellCount()).toBe(cells0 + 100 * 16);
    // Handed over together: a write per group commit's worth (64), not one per job.
    expect((await finishWrites()) - writes0).toBeLessThanOrEqual(3);
    expect(await env.db('batches').where({ id: entry.split('.')[0] }).first('unfinished')).toEqual({ unfinished: 0 });
  });

  it('keeps no result of a job cancelled between its kernel and its final write', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const { entry, rows } = await chunkOf(tenant.tenantId, 5);
    const victim = rows[2]!;
    const kernels: KernelRunner = {
      run: async () => {
        throw new Error('no job of this chunk takes the one-job path');
      },
      runInline: (_type, _spec, params) => {
        if (tagOf(params) !== tagOf(victim.params)) return Promise.resolve({ ok: true });
        // The API's cancel of a running job, arriving while the kernel answers: the flag on the row.
        return env
          .db('jobs')
          .where({ id: victim.id })
          .update({ cancel_requested_at: env.db.fn.now() })
          .then(() => ({ ok: true }));
      },
    };
    const { runner, told, held } = useRunner(kernels);
    await runner.run(held(entry, tenant.tenantId, rows.map((r) => r.id)));
    const final = new Map(((await env.db('jobs').whereIn('id', rows.map((r) => r.id)).select('id', 'status')) as JobRow[]).map((r) => [r.id, r.status]));
    expect(final.get(victim.id)).toBe('cancelled');
    expect([...final.values()].filter((s) => s === 'completed')).toHaveLength(4);
    expect(await env.db('job_results').where({ job_id: victim.id }).first()).toBeUndefined();
    expect(told).toEqual(['completed: chunk done']);
  });

  it('runs a job too large to run inline, and decides a failing kernel, on the one-job path mid-chunk', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const { entry, rows } = await chunkOf(tenant.tenantId, 6);
    const [large, failing] = [rows[2]!, rows[4]!];
    const kernels: KernelRunner = {
      // Answers after a few turns of the event loop, as a kernel thread would.
      run: async (_type, _spec, params) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { large: tagOf(params) };
      },
      runInline: (_type, _spec, params) => {
        const tag = tagOf(params);
        if (tag === tagOf(large.params)) return undefined;
        if (tag === tagOf(failing.params)) return Promise.reject(new KernelError('too_large', 'too large for this worker'));
        return Promise.resolve({ inline: tag });
      },
    };
    const { runner, told, held } = useRunner(kernels);
    const subscriber = duplicateRedis(env.redis, 'test:chunk-updates');
    const heard: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => heard.push((JSON.parse(message) as { status: string }).status));
    try {
      await subscriber.subscribe(jobChannel(env.redisPrefix, large.id));
      await runner.run(held(entry, tenant.tenantId, rows.map((r) => r.id)));
      const final = new Map(((await env.db('jobs').whereIn('id', rows.map((r) => r.id)).select('id', 'status', 'error')) as JobRow[]).map((r) => [r.id, r]));
      expect(final.get(failing.id)).toMatchObject({ status: 'failed', error: { code: 'too_large' } });
      expect(final.get(large.id)?.status).toBe('completed');
      expect([...final.values()].filter((r) => r.status === 'completed')).toHaveLength(5);
      const results = new Map(
        ((await env.db('job_results').whereIn('job_id', rows.map((r) => r.id)).select('job_id', 'result')) as Array<{ job_id: string; result: Record<string, number> }>).map((r) => [
          r.job_id,
          r.result,
        ]),
      );
      expect(results.get(large.id)).toMatchObject({ large: tagOf(large.params) });
      expect(results.get(rows[5]!.id)).toMatchObject({ inline: tagOf(rows[5]!.params) });
      expect(told).toEqual(['completed: chunk done']);
      // The large job's kernel was seen running: it was marked running, as any threaded job is.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard).toEqual(['running', 'completed']);
    } finally {
      subscriber.disconnect();
    }
  });
});
