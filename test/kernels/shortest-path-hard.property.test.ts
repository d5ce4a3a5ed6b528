/**
 * shortest_path on lattices where the search has to work: near the percolation threshold (so no
 * Manhattan-length path, long detours, many meetings to choose from), up to 10 dimensions, slabs
 * of one row, more slab threads than cores, and a frontier large enough to be put in memory order.
 * Every answer is checked against the reference BFS.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveJob } from '../../shared/lattice/job.ts';
import type { LatticeSpecInput } from '../../shared/lattice/types.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { cellArb } from '../lattice/arbitraries.ts';
import { refPathProblem, refShortestPathLength } from '../lattice/reference.ts';

const pool = new KernelPool({ threads: 6 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

/** Near-threshold blocked fractions: 2-D site percolation at ~0.41, 3-D at ~0.69. */
const HARD_DENSITY: Record<number, [number, number]> = { 2: [0.3, 0.45], 3: [0.5, 0.7] };

interface HardCase {
  spec: LatticeSpecInput;
  start: number[];
  end: number[];
}

function hardCaseArb(): fc.Arbitrary<HardCase> {
  return fc
    .constantFrom(2, 3)
    .chain((d) =>
      fc.tuple(
        fc.array(fc.integer({ min: 1, max: d === 2 ? 70 : 16 }), { minLength: d, maxLength: d }),
        fc.constantFrom('open' as const, 'periodic' as const),
        fc.double({ min: HARD_DENSITY[d]![0], max: HARD_DENSITY[d]![1], noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.boolean(),
      ),
    )
    .chain(([shape, boundary, density, seed, corners]) => {
      const spec: LatticeSpecInput = { shape, boundary, obstacles: { density, seed } };
      const ends = corners
        ? fc.constant({ start: shape.map(() => 0), end: shape.map((side) => side - 1) })
        : fc.record({ start: cellArb(shape), end: cellArb(shape) });
      return ends.map((chosen) => ({ spec, ...chosen }));
    });
}

/** Lattices of 7 to 10 axes, mostly of side 2, with any obstacles. */
function manyAxesCaseArb(): fc.Arbitrary<HardCase> {
  return fc
    .tuple(
      fc.integer({ min: 7, max: 10 }),
      fc.integer({ min: 1, max: 6 }),
      fc.constantFrom('open' as const, 'periodic' as const),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    )
    .chain(([d, first, boundary, density, seed]) => {
      const shape = [first, ...new Array<number>(d - 1).fill(2)];
      const spec: LatticeSpecInput = { shape, boundary, obstacles: { density, seed } };
      return fc.record({ start: cellArb(shape), end: cellArb(shape) }).map((ends) => ({ spec, ...ends }));
    });
}

async function expectReference({ spec, start, end }: HardCase, threads: number[]): Promise<void> {
  const { lattice, params } = resolveJob('shortest_path', spec, { start, end });
  const expected = refShortestPathLength(lattice, params.start, params.end);
  for (const count of threads) {
    const result = await pool.run('shortest_path', spec, { start, end }, { strategy: 'bfs', threads: count });
    const where = `${JSON.stringify(spec)} ${JSON.stringify({ start, end, threads: count })}`;
    expect(result.length, where).toBe(expected);
    expect(result.reachable, where).toBe(expected !== null);
    if (expected !== null) expect(refPathProblem(lattice, result.path, params.start, params.end), where).toBeNull();
    else expect(result.path, where).toEqual([]);
  }
}

describe('shortest_path on hard lattices', () => {
  it('matches the reference near the percolation threshold, on 1 to 6 slab threads', async () => {
    await fc.assert(
      fc.asyncProperty(hardCaseArb(), (hard) => expectReference(hard, [1, 2, 3, 6])),
      { numRuns: 300 },
    );
  }, 300_000);

  it('matches the reference on 7 to 10 axes, with slabs of one row', async () => {
    await fc.assert(
      fc.asyncProperty(manyAxesCaseArb(), (hard) => expectReference(hard, [1, 2, 6])),
      { numRuns: 150 },
    );
  }, 300_000);

  it('matches the reference with dense explicit obstacles', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 2, max: 40 })).chain((shape) =>
          fc.record({
            blocked: fc.array(cellArb(shape), { maxLength: Math.floor(shape[0] * shape[1] * 0.45) }),
            start: cellArb(shape),
            end: cellArb(shape),
            boundary: fc.constantFrom('open' as const, 'periodic' as const),
          }).map(({ blocked, start, end, boundary }) => ({ spec: { shape, boundary, obstacles: { blocked } }, start, end })),
        ),
        (hard) => expectReference(hard, [1, 2, 4]),
      ),
      { numRuns: 150 },
    );
  }, 300_000);

  it('matches the reference when frontiers are large enough to be sorted into memory order', async () => {
    // A 3-D corner-to-corner search at low density: its frontiers pass 8192 cells.
    await expectReference({ spec: { shape: [72, 72, 72], obstacles: { density: 0.3, seed: 11 } }, start: [0, 0, 0], end: [71, 71, 71] }, [1, 2]);
    await expectReference({ spec: { shape: [64, 64, 64], boundary: 'periodic', obstacles: { density: 0.45, seed: 5 } }, start: [0, 0, 0], end: [32, 32, 32] }, [1, 2]);
  }, 120_000);
});
