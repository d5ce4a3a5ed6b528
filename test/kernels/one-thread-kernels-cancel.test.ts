/**
 * Cancellation and progress of the one-thread kernels (distance_field, min_cost_path, percolation and
 * shortest_path's pairs): a large run stops soon after its signal aborts (with the slack for a
 * busy machine that test/kernels/cancellation.test.ts explains), and progress is monotone and ends at 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelType } from '../../shared/lattice/types.ts';
import { isKernelError } from '../../worker/kernels/kernel-errors.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';

const pool = new KernelPool({ threads: 1, progressIntervalMs: 10 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

const SETTLE_BOUND_MS = 400;
const PLANE = { shape: [3000, 3000], obstacles: { density: 0.2, seed: 7 } };
const JOBS: Array<[KernelType, unknown]> = [
  ['distance_field', { sources: [[1500, 1500]], connectivity: 'full' }],
  ['min_cost_path', { start: [0, 0], end: [2999, 2999], costs: { max: 9, seed: 1 } }],
  ['percolation', { seed: 3, points: 101 }],
  ['shortest_path', { pairs: [{ start: [0, 0], end: [2999, 2999] }, { start: [2999, 0], end: [0, 2999] }] }],
];

describe('one-thread kernels', () => {
  it.each(JOBS)('stop %s soon after the signal aborts', async (type, params) => {
    const abort = new AbortController();
    const run = pool.submit(type, PLANE, params, { signal: abort.signal });
    const settled = run.outcome.then(
      () => 'completed',
      (err: unknown) => err,
    );
    const deadline = performance.now() + 10_000;
    while (run.progress === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const aborted = performance.now();
    abort.abort();
    const outcome = await settled;
    const elapsed = performance.now() - aborted;
    expect(isKernelError(outcome, 'cancelled'), String(outcome)).toBe(true);
    console.log(`${type}: settled ${elapsed.toFixed(1)} ms after abort`);
    expect(elapsed).toBeLessThan(SETTLE_BOUND_MS);
  });

  it.each(JOBS)('report progress of %s rising to 1', async (type, params) => {
    const seen: number[] = [];
    await pool.run(type, { shape: [600, 600], obstacles: { density: 0.2, seed: 7 } }, JSON.parse(JSON.stringify(params).replaceAll('2999', '599').replaceAll('1500', '300')), {
      onProgress: (p) => seen.push(p),
    });
    expect(seen.at(-1)).toBe(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
  });
});
