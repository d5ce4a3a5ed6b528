/**
 * Admission by memory, with a real worker process: a job whose reservation does not fit beside
 * the running ones waits in its queue and runs once memory comes back, while smaller jobs of
 * other tenants pass it; a job larger than MAX_JOB_MEMORY_BYTES is refused at submit (422) and
 * leaves no trace.
 */
import { describe, expect, it } from 'vitest';
import { jobReservation } from '../../shared/jobs/job-memory.ts';
import type { LatticeSpec } from '../../shared/lattice/types.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { json, startWorker, stopWorker, submit, waitForJob } from './support.ts';

const MIB = 1024 * 1024;
const env = useTestEnvironment();
const api = useTestApi(env, { MAX_JOB_MEMORY_BYTES: String(16 * MIB), KERNEL_THREADS: '1' });

/** About 12.7 MiB reserved (a float32 field and a byte per cell, and the field kept for its artefact), running for a while. */
const big = { type: 'diffusion' as const, lattice: { shape: [1200, 1200] }, params: { steps: 700, alpha: 0.2, sources: [{ cell: [600, 600], value: 1 }] }, artefacts: ['field'] };
const tiny = (i: number) => ({ type: 'shortest_path' as const, lattice: { shape: [8, 8] }, params: { start: [0, 0], end: [7, i % 8] } });

describe('memory admission', () => {
  it('keeps a job queued until its reservation fits, lets smaller jobs of others run meanwhile, then runs it', { timeout: 120_000 }, async () => {
    const reservation = jobReservation(big.type, { ...big.lattice, boundary: 'open' } as LatticeSpec, big.params, 1, big.artefacts);
    expect(reservation).toBeGreaterThan(10 * MIB);
    expect(reservation).toBeLessThan(14 * MIB);
    const [heavy, light] = await Promise.all([createTestTenant(env.db, { plan: 'enterprise' }), createTestTenant(env.db, { plan: 'enterprise' })]);
    // Room for one large job and some small ones, never two large ones.
    const worker = await startWorker(env, { WORKER_MEMORY_BUDGET_BYTES: String(18 * MIB), WORKER_CONCURRENCY: '4', KERNEL_THREADS: '1' });
    try {
      const first = await submit(api, heavy.headers, big);
      const second = await submit(api, heavy.headers, big);
      const smalls = [];
      for (let i = 0; i < 6; i++) smalls.push(await submit(api, light.headers, tiny(i)));
      const done = await Promise.all([first, second, ...smalls].map((job) => waitForJob(api, job.id === first.id || job.id === second.id ? heavy.headers : light.headers, job.id, 90_000)));
      for (const job of done) {
        expect(job.status, JSON.stringify(job.error)).toBe('completed');
        expect(job.result).not.toBeNull();
        expect(job.attempts).toBe(1);
      }
      const [one, two] = done as [(typeof done)[0], (typeof done)[0]];
      // The second large job started only after the first had finished: never both at once.
      expect(Date.parse(two.started_at as string)).toBeGreaterThanOrEqual(Date.parse(one.finished_at as string));
      // The small jobs did not wait behind it.
      const smallStarts = done.slice(2).map((job) => Date.parse(job.started_at as string));
      expect(Math.max(...smallStarts)).toBeLessThan(Date.parse(two.started_at as string));
    } finally {
      await stopWorker(worker);
    }
  });

  it('refuses a job no worker can hold with 422 job_too_large and writes nothing', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    const huge = { type: 'diffusion' as const, lattice: { shape: [2000, 2000] }, params: { steps: 1, alpha: 0.2 } };
    const inline = await api.request('/api/jobs', { body: huge, headers: tenant.headers });
    expect(inline.status).toBe(422);
    expect(inline.headers.get('content-type')).toContain('application/problem+json');
    const problem = await json<{ code: string; memory_bytes: number; limit_bytes: number; detail: string }>(inline);
    expect(problem.code).toBe('job_too_large');
    expect(problem.limit_bytes).toBe(16 * MIB);
    expect(problem.memory_bytes).toBeGreaterThan(16 * MIB);
    expect(problem.detail).toMatch(/MiB/);

    // The same through a stored lattice.
    const stored = await api.request('/api/lattices', { body: { shape: [2000, 2000] }, headers: tenant.headers });
    expect(stored.status).toBe(201);
    const { id: latticeId } = await json<{ id: string }>(stored);
    const byId = await api.request('/api/jobs', { body: { type: 'diffusion', lattice_id: latticeId, params: { steps: 1, alpha: 0.2 } }, headers: tenant.headers });
    expect(byId.status).toBe(422);
    expect((await json<{ code: string }>(byId)).code).toBe('job_too_large');

    const [rows] = await env.db('jobs').where({ tenant_id: tenant.tenantId }).count<{ count: string }[]>('* as count');
    expect(Number(rows?.count)).toBe(0);
    const queueKeys = await env.redis.keys(`${env.redisPrefix}:{t.${tenant.tenantId}}*`);
    expect(queueKeys).toEqual([]);
    const jobUsage = await env.db('usage_counters').where({ tenant_id: tenant.tenantId }).andWhere('metric', 'like', 'jobs%').select('metric', 'value');
    expect(jobUsage.filter((row: { value: string }) => Number(row.value) > 0)).toEqual([]);

    // A job just under the limit is accepted.
    const fits = await api.request('/api/jobs', { body: { ...huge, lattice: { shape: [1000, 1000] } }, headers: tenant.headers });
    expect(fits.status).toBe(202);
  });
});
