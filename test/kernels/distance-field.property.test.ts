/** distance_field against a plain multi-source BFS on random small lattices, both connectivities. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISTANCE_HISTOGRAM_BINS } from '../../shared/lattice/limits.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { keptClassBfs } from '../../worker/kernels/class-bfs-wasm.ts';
import { DistanceHistogram, distanceField } from '../../worker/kernels/distance-field.ts';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { cellArb, perAxisLatticeArb, smallLatticeArb } from '../lattice/arbitraries.ts';
import { refBlocked, refCoords, refIndex } from '../lattice/reference.ts';
import { refCostDistances, refCosts, refDistances } from '../lattice/reference-fields.ts';

const pool = new KernelPool({ threads: 1 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

/** The summary a distance_field result carries, from per-cell distances. */
function summary(lattice: Lattice, distance: ArrayLike<number> & Iterable<number>, sources: number, open: number) {
  let reached = 0;
  let max = -1;
  let sum = 0;
  for (const d of distance) {
    if (d < 0) continue;
    reached++;
    sum += d;
    max = Math.max(max, d);
  }
  let width = 1;
  while (max >= DISTANCE_HISTOGRAM_BINS * width) width *= 2;
  const counts = new Array<number>(reached > 0 ? Math.floor(max / width) + 1 : 0).fill(0);
  for (const d of distance) if (d >= 0) counts[Math.floor(d / width)]!++;
  return { sources, reached, unreachable: open - reached, max: reached > 0 ? max : null, mean: reached > 0 ? sum / reached : null, histogram: { bin_width: width, counts } };
}

const connectivityArb = fc.constantFrom('axis' as const, 'full' as const);

describe('distance_field', () => {
  it('gives the summary of a plain BFS from source cells', async () => {
    const cases = smallLatticeArb().chain((l) =>
      fc.record({ l: fc.constant(l), sources: fc.array(cellArb(l.shape), { minLength: 1, maxLength: 4 }), connectivity: connectivityArb }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, sources, connectivity }) => {
        const lattice = resolveLattice(l.spec);
        const cells = [...new Set(sources.map((c) => refIndex(lattice, c)))];
        const distance = refDistances(lattice, cells, connectivity, true);
        const open = refBlocked(lattice, cells).reduce((n, b) => n + (b ? 0 : 1), 0);
        const { memory_bytes, mean, ...result } = await pool.run('distance_field', l.spec, { sources, connectivity });
        const { mean: expectedMean, ...expected } = summary(lattice, distance, cells.length, open);
        expect(result, JSON.stringify({ spec: l.spec, sources, connectivity })).toEqual(expected);
        if (expectedMean === null) expect(mean).toBeNull();
        else expect(mean).toBeCloseTo(expectedMean, 9);
        expect(memory_bytes).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('starts from every open cell of a face', async () => {
    const cases = smallLatticeArb().chain((l) =>
      fc.record({ l: fc.constant(l), axis: fc.integer({ min: 0, max: l.shape.length - 1 }), side: fc.constantFrom('low' as const, 'high' as const), connectivity: connectivityArb }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, axis, side, connectivity }) => {
        const lattice = resolveLattice(l.spec);
        const blocked = refBlocked(lattice);
        const faceCells: number[] = [];
        for (let i = 0; i < lattice.cells; i++) {
          if (refCoords(lattice, i)[axis] === (side === 'low' ? 0 : lattice.shape[axis]! - 1) && !blocked[i]) faceCells.push(i);
        }
        const distance = refDistances(lattice, faceCells, connectivity, false);
        const open = blocked.reduce((n, b) => n + (b ? 0 : 1), 0);
        const { memory_bytes: _m, mean, ...result } = await pool.run('distance_field', l.spec, { face: { axis, side }, connectivity });
        const { mean: expectedMean, ...expected } = summary(lattice, distance, faceCells.length, open);
        expect(result, JSON.stringify({ spec: l.spec, axis, side, connectivity })).toEqual(expected);
        if (expectedMean === null) expect(mean).toBeNull();
        else expect(mean).toBeCloseTo(expectedMean, 9);
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it('on a cost map, gives the summary of a multi-source Dijkstra over entered cells\' costs', async () => {
    const cases = smallLatticeArb().chain((l) =>
      fc.record({
        l: fc.constant(l),
        sources: fc.option(fc.array(cellArb(l.shape), { minLength: 1, maxLength: 4 }), { nil: undefined }),
        axis: fc.integer({ min: 0, max: l.shape.length - 1 }),
        connectivity: connectivityArb,
        max: fc.integer({ min: 1, max: 255 }),
        seed: fc.nat(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, sources, axis, connectivity, max, seed }) => {
        const lattice = resolveLattice(l.spec);
        const cells = sources === undefined ? [] : [...new Set(sources.map((c) => refIndex(lattice, c)))];
        const costs = refCosts(lattice, max, seed, cells);
        // A face's open cells are its sources; listed cells are open whatever the obstacles say.
        const from = sources !== undefined ? cells : costs.flatMap((cost, i) => (cost > 0 && refCoords(lattice, i)[axis] === 0 ? [i] : []));
        const distance = refCostDistances(lattice, costs, from, connectivity);
        const open = costs.filter((cost) => cost > 0).length;
        const params = sources !== undefined ? { sources, connectivity, costs: { max, seed } } : { face: { axis, side: 'low' as const }, connectivity, costs: { max, seed } };
        const { memory_bytes, mean, ...result } = await pool.run('distance_field', l.spec, params);
        const { mean: expectedMean, ...expected } = summary(lattice, distance, from.length, open);
        expect(result, JSON.stringify({ spec: l.spec, params })).toEqual(expected);
        if (expectedMean === null) expect(mean).toBeNull();
        else expect(mean).toBeCloseTo(expectedMean, 9);
        expect(memory_bytes).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it("by class rows in WebAssembly: per-axis boundaries, 2 and 3 axes, in a thread's kept memory full of garbage", () => {
    const run = (spec: object, sources: number[][]) => {
      const { lattice, params } = resolveJob('distance_field', spec, { sources, connectivity: 'full' });
      if (params.type !== 'distance_field') throw new Error('unexpected');
      return distanceField(lattice, params, JobControl.create(1)).result;
    };
    /** What a run may leave behind: every byte of the kept memory garbage. */
    const dirty = (): void => {
      new Uint8Array(keptClassBfs.peek()!.memory.buffer).fill(0xff);
    };
    const cases = perAxisLatticeArb()
      .filter((l) => l.shape.length === 2 || l.shape.length === 3)
      .chain((l) => fc.record({ l: fc.constant(l), sources: fc.array(cellArb(l.shape), { minLength: 1, maxLength: 4 }) }));
    // A larger run first, so the small ones run in a larger kept memory.
    run({ shape: [40, 40, 40], obstacles: { density: 0.2, seed: 1 } }, [[0, 0, 0]]);
    fc.assert(
      fc.property(cases, ({ l, sources }) => {
        const lattice = resolveLattice(l.spec);
        const cells = [...new Set(sources.map((c) => refIndex(lattice, c)))];
        const distance = refDistances(lattice, cells, 'full', true);
        const open = refBlocked(lattice, cells).reduce((n, b) => n + (b ? 0 : 1), 0);
        dirty();
        const { mean, ...result } = run(l.spec, sources);
        const { mean: expectedMean, ...expected } = summary(lattice, distance, cells.length, open);
        expect(result, JSON.stringify({ spec: l.spec, sources })).toEqual(expected);
        if (expectedMean === null) expect(mean).toBeNull();
        else expect(mean).toBeCloseTo(expectedMean, 9);
      }),
      { numRuns: 300 },
    );
  });

  it('folds distances into at most 64 bins of doubling width', () => {
    const histogram = new DistanceHistogram();
    for (let d = 0; d < 1000; d++) histogram.add(d, 1);
    expect(histogram.toJSON()).toEqual({ bin_width: 16, counts: [...new Array<number>(62).fill(16), 8] });
  });

  it('refuses a face axis the lattice does not have', async () => {
    await expect(pool.run('distance_field', { shape: [4, 4] }, { face: { axis: 2, side: 'low' } })).rejects.toMatchObject({ code: 'params_invalid', field: 'params.face.axis' });
    await expect(pool.run('distance_field', { shape: [4, 4] }, { face: { axis: 0, side: 'low' }, sources: [[0, 0]] })).rejects.toMatchObject({ code: 'params_invalid' });
  });
});
