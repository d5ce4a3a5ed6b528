/**
 * Tiny runs computed on the caller's thread (`inlineMaxCells`): the same answers as the pool's
 * threads on random small lattices of every kernel, only runs within the limit (and not those
 * asking for several threads) go inline, and cancel, progress and a closed pool behave as for
 * threaded runs.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveJob } from '../../shared/lattice/job.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { diffusionCaseArb, pathCaseArb, smallLatticeArb } from '../lattice/arbitraries.ts';

/** Every generated lattice (a few hundred cells at most) is within this. */
const LIMIT = 4096;
const inline = new KernelPool({ threads: 1, inlineMaxCells: LIMIT });
const threaded = new KernelPool({ threads: 1 });
beforeAll(() => Promise.all([inline.start(), threaded.start()]));
afterAll(() => Promise.all([inline.close(), threaded.close()]));

describe('inline kernel runs', () => {
  it('answer as the threads do, for shortest_path, components and diffusion', async () => {
    await fc.assert(
      fc.asyncProperty(pathCaseArb(), async ({ spec, start, end }) => {
        const run = inline.submit('shortest_path', spec, { start, end });
        expect(run.inline).toBe(true);
        expect(await run.outcome.then((o) => o.result)).toEqual(await threaded.run('shortest_path', spec, { start, end }));
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(smallLatticeArb(), async ({ spec }) => {
        expect(await inline.run('components', spec, {})).toEqual(await threaded.run('components', spec, {}));
      }),
      { numRuns: 200 },
    );
    await fc.assert(
      fc.asyncProperty(diffusionCaseArb(), async ({ spec, params }) => {
        const run = inline.submit('diffusion', spec, params);
        const cells = (await run.outcome).stats.cells;
        // Diffusion's work is cells times steps: only runs within the limit go inline.
        expect(run.inline).toBe(cells * Math.max(1, params.steps) <= LIMIT);
        expect((await run.outcome).result).toEqual(await threaded.run('diffusion', spec, params));
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  it('go to a thread above the limit, or when several threads are asked for', async () => {
    const small = { shape: [64, 64] };
    const large = { shape: [64, 65] };
    const path = (shape: number[]) => ({ start: [0, 0], end: [shape[0]! - 1, shape[1]! - 1] });
    expect(inline.submit('shortest_path', small, path(small.shape)).inline).toBe(true);
    expect(inline.submit('shortest_path', large, path(large.shape)).inline).toBe(false);
    expect(inline.submit('components', small, {}, { threads: 1 }).inline).toBe(true);
    expect(inline.submit('components', small, {}, { threads: 2 }).inline).toBe(false);
    expect(threaded.submit('components', { shape: [2] }, {}).inline).toBe(false);
    const outcome = await inline.submit('shortest_path', large, path(large.shape)).outcome;
    expect(outcome.result.length).toBe(63 + 64);
  });

  it('runInline runs only what would go inline, answers as run does, and refuses bad parameters', async () => {
    const small = { shape: [64, 64] };
    const large = { shape: [64, 65] };
    const path = (shape: number[]) => ({ start: [0, 0], end: [shape[0]! - 1, shape[1]! - 1] });
    expect(inline.runInline('shortest_path', large, path(large.shape))).toBeUndefined();
    expect(threaded.runInline('shortest_path', { shape: [4, 4] }, path([4, 4]))).toBeUndefined();
    const answer = inline.runInline('shortest_path', small, path(small.shape), { pathCells: true });
    expect(await answer).toEqual(await inline.run('shortest_path', small, path(small.shape), { pathCells: true }));
    await expect(inline.runInline('shortest_path', small, { start: [0, 0], end: [64, 0] })).rejects.toMatchObject({ code: 'cell_out_of_bounds' });
  });

  it('never start once cancelled, report progress 1, and are refused by a closed pool', async () => {
    await expect(inline.run('components', { shape: [4] }, {}, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'cancelled' });
    const progress: number[] = [];
    const result = await inline.run('shortest_path', { shape: [8, 8] }, { start: [0, 0], end: [7, 7] }, { onProgress: (p) => progress.push(p) });
    expect(result.length).toBe(14);
    expect(progress).toEqual([1]);
    const closing = new KernelPool({ threads: 1, inlineMaxCells: LIMIT });
    await closing.start();
    await closing.close();
    await expect(closing.run('components', { shape: [4] }, {})).rejects.toMatchObject({ code: 'pool_closed' });
    expect(closing.runInline('components', { shape: [4] }, {})).toBeUndefined();
  });

  it('keep the lattices of small specs by their JSON without mixing them up or taking later changes to a spec', async () => {
    // A few specs, each run many times with other parameters (a chunk's jobs share their lattice).
    await fc.assert(
      fc.asyncProperty(fc.array(pathCaseArb(), { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), async (cases, picks) => {
        for (const pick of picks) {
          const { spec, start, end } = cases[pick % cases.length]!;
          // A copy each time: the key is the spec's JSON, not the object.
          const copy = structuredClone(spec);
          const run = inline.submit('shortest_path', copy, { start, end });
          expect(run.inline).toBe(true);
          expect((await run.outcome).result).toEqual(await threaded.run('shortest_path', spec, { start, end }));
        }
      }),
      { numRuns: 100 },
    );
    const spec = { shape: [6, 6], obstacles: { blocked: [[1, 1]] } };
    const first = await inline.run('shortest_path', spec, { start: [0, 0], end: [5, 5] });
    // The caller changes its spec afterwards: the kept lattice is not that object.
    spec.shape[0] = 2;
    spec.obstacles.blocked[0]![0] = 0;
    const again = await inline.run('shortest_path', { shape: [6, 6], obstacles: { blocked: [[1, 1]] } }, { start: [0, 0], end: [5, 5] });
    expect(again).toEqual(first);
    expect(await inline.run('shortest_path', spec, { start: [0, 0], end: [1, 5] })).toEqual(await threaded.run('shortest_path', { shape: [2, 6], obstacles: { blocked: [[0, 1]] } }, { start: [0, 0], end: [1, 5] }));
    // Parameters are still checked against a kept lattice, with the errors a first run gives.
    const kept = { shape: [6, 6], obstacles: { blocked: [[1, 1]] } };
    for (const params of [{ start: [0, 0], end: [6, 0] }, { start: [0, 0], end: [1, 2, 3] }, { start: [0, 0] }]) {
      let expected: unknown;
      try {
        resolveJob('shortest_path', kept, params);
      } catch (err) {
        expected = err;
      }
      expect(expected).toBeDefined();
      await expect(inline.run('shortest_path', structuredClone(kept), params)).rejects.toMatchObject({ code: (expected as { code: string }).code, message: (expected as Error).message });
    }
  }, 120_000);

  it('names a bad limit', () => {
    expect(() => new KernelPool({ inlineMaxCells: -1 })).toThrow('options.inlineMaxCells must be a non-negative number');
  });
});
