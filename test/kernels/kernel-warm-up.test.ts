/**
 * The warm-up a fresh pool runs before real jobs (kernel-warm-up.ts): its path lattices are hard
 * (joined ends, no path of Manhattan length, so the full search runs), a pool asked to warm up
 * does before `start()` resolves and answers as a cold one does, and a pool too small for part of
 * the warm-up still starts. Its runs go in an order that spreads each job over the whole warm-up.
 */
import { describe, expect, it, vi } from 'vitest';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { WARM_UP_JOBS, warmUpCount, warmUpOrder, type WarmUpJob } from '../../worker/kernels/kernel-warm-up.ts';

const manhattan = (params: { start: number[]; end: number[] }): number => params.start.reduce((sum, x, axis) => sum + Math.abs(params.end[axis]! - x), 0);

describe('the kernel pool warm-up', () => {
  it('searches paths that exist but are longer than their Manhattan length, and covers every kernel it names', async () => {
    const pool = new KernelPool({ threads: 1 });
    await pool.start();
    try {
      const paths = WARM_UP_JOBS.filter((job) => job.type === 'shortest_path');
      expect(paths.length).toBeGreaterThanOrEqual(2);
      for (const job of paths) {
        const params = job.params as { start: number[]; end: number[] };
        const result = (await pool.run('shortest_path', job.spec, params)) as { length: number | null };
        expect(result.length, JSON.stringify(job.spec)).not.toBeNull();
        expect(result.length!).toBeGreaterThan(manhattan(params));
      }
      expect(new Set(WARM_UP_JOBS.map((job) => job.type))).toEqual(new Set(['shortest_path', 'components', 'diffusion']));
      expect(WARM_UP_JOBS.map((job) => warmUpCount(job, 30))).toEqual([30, 10, 10, 10]);
      expect(WARM_UP_JOBS.map((job) => warmUpCount(job, 1))).toEqual([1, 1, 1, 1]);
      expect(WARM_UP_JOBS.map((job) => warmUpCount(job, 0))).toEqual([0, 0, 0, 0]);
    } finally {
      await pool.close();
    }
  });

  it('spreads the runs of each job over the whole warm-up and ends with the first job (the 2-D path)', () => {
    const order = warmUpOrder(WARM_UP_JOBS, 30);
    expect(order).toHaveLength(60);
    for (const job of WARM_UP_JOBS) expect(order.filter((j) => j === job)).toHaveLength(warmUpCount(job, 30));
    // Every job has run by the first sixth; no job waits more than 6 runs for its next turn.
    for (const job of WARM_UP_JOBS) {
      const at = order.flatMap((j, i) => (j === job ? [i] : []));
      expect(at[0]!, job.type).toBeLessThan(10);
      expect(Math.max(...at.slice(1).map((i, k) => i - at[k]!)), job.type).toBeLessThanOrEqual(6);
    }
    expect(order.at(-1)).toBe(WARM_UP_JOBS[0]);
    expect(order[0]).toBe(WARM_UP_JOBS[0]);
    expect(warmUpOrder(WARM_UP_JOBS, 0)).toEqual([]);
    const [a, b] = [{ share: 1 }, { share: 0.5 }] as WarmUpJob[];
    expect(warmUpOrder([a!, b!], 4)).toEqual([a, b, a, a, b, a]);
  });

  it('runs before start() resolves when asked, and the pool answers as a cold one does', { timeout: 60_000 }, async () => {
    const spec = { shape: [300, 300], obstacles: { density: 0.37, seed: 3 } };
    const params = { start: [0, 0], end: [299, 299] };
    const cold = new KernelPool({ threads: 2 });
    const warm = new KernelPool({ threads: 2, warmUpRuns: 3 });
    await Promise.all([cold.start(), warm.start()]);
    try {
      expect(cold.warmUpMs).toBe(0);
      expect(warm.warmUpMs).toBeGreaterThan(0);
      expect(warm.warmUpSkipped).toBe(0);
      expect(warm.state).toBe('running');
      expect(await warm.run('shortest_path', spec, params)).toMatchObject({ length: (await cold.run('shortest_path', spec, params)).length });
      expect(await warm.run('components', spec, {})).toMatchObject({ count: (await cold.run('components', spec, {})).count });
    } finally {
      await Promise.all([cold.close(), warm.close()]);
    }
  });

  it('runs the jobs in warmUpOrder, each refused job tried once', { timeout: 60_000 }, async () => {
    const run = vi.spyOn(KernelPool.prototype, 'run');
    const pool = new KernelPool({ threads: 2, warmUpRuns: 3 });
    const small = new KernelPool({ threads: 1, warmUpRuns: 6, memoryLimitBytes: 2 << 20 });
    try {
      await pool.start();
      expect(run.mock.calls.map((call) => call[1])).toEqual(warmUpOrder(WARM_UP_JOBS, 3).map((job) => job.spec));
      run.mockClear();
      await small.start();
      // Each refused job counts once and is not tried again; the others run all their runs.
      const tried = run.mock.calls.map((call) => call[1]);
      const counts = WARM_UP_JOBS.map((job) => tried.filter((spec) => spec === job.spec).length);
      expect(small.warmUpSkipped).toBeGreaterThan(0);
      expect(small.warmUpSkipped).toBeLessThan(WARM_UP_JOBS.length);
      expect(WARM_UP_JOBS.map((job) => warmUpCount(job, 6))).toEqual([6, 2, 2, 2]);
      expect(WARM_UP_JOBS.filter((job, k) => counts[k] === 1).length, JSON.stringify(counts)).toBe(small.warmUpSkipped);
      expect(WARM_UP_JOBS.filter((job, k) => counts[k] === warmUpCount(job, 6)).length, JSON.stringify(counts)).toBe(WARM_UP_JOBS.length - small.warmUpSkipped);
    } finally {
      run.mockRestore();
      await Promise.all([pool.close(), small.close()]);
    }
  });

  it('starts all the same when its memory limit refuses the larger warm-up jobs', { timeout: 60_000 }, async () => {
    const small = new KernelPool({ threads: 1, warmUpRuns: 2, memoryLimitBytes: 2 << 20 });
    await small.start();
    try {
      expect(small.state).toBe('running');
      expect(small.warmUpSkipped).toBeGreaterThan(0);
      await expect(small.run('components', { shape: [10] }, {})).resolves.toMatchObject({ count: 1 });
    } finally {
      await small.close();
    }
  });
});
