/** min_cost_path against Dijkstra on random small lattices and cost maps, both connectivities. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellCost, costSeedOffset } from '../../shared/lattice/cost-rule.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { pathCaseArb } from '../lattice/arbitraries.ts';
import { refIndex } from '../lattice/reference.ts';
import { refCosts, refMinCost, refNeighboursWith } from '../lattice/reference-fields.ts';

const pool = new KernelPool({ threads: 1 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

describe('min_cost_path', () => {
  it('finds the least cost Dijkstra finds, on a valid path that costs it', async () => {
    const cases = pathCaseArb().chain((l) =>
      fc.record({
        l: fc.constant(l),
        max: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 255 })),
        seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        connectivity: fc.constantFrom('axis' as const, 'full' as const),
      }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, max, seed, connectivity }) => {
        const lattice = resolveLattice(l.spec);
        const start = refIndex(lattice, l.start);
        const end = refIndex(lattice, l.end);
        const costs = refCosts(lattice, max, seed, [start, end]);
        const expected = refMinCost(lattice, costs, start, end, connectivity);
        const result = await pool.run('min_cost_path', l.spec, { start: l.start, end: l.end, costs: { max, seed }, connectivity });
        const label = JSON.stringify({ spec: l.spec, start: l.start, end: l.end, max, seed, connectivity });
        expect(result.cost, label).toBe(expected);
        expect(result.reachable).toBe(expected !== null);
        if (expected === null) {
          expect(result.path).toEqual([]);
          return;
        }
        const cells = result.path.map((c) => refIndex(lattice, c));
        expect(cells[0]).toBe(start);
        expect(cells[cells.length - 1]).toBe(end);
        expect(result.length).toBe(cells.length - 1);
        let sum = 0;
        for (let k = 1; k < cells.length; k++) {
          expect(refNeighboursWith(lattice, cells[k - 1]!, connectivity), label).toContain(cells[k]);
          expect(costs[cells[k]!], label).toBeGreaterThan(0);
          sum += costs[cells[k]!]!;
        }
        expect(sum, label).toBe(expected);
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('keeps the public cost rule: known cells have known costs', () => {
    const offset = costSeedOffset(42);
    expect([0, 1, 2, 3, 1_000_000].map((i) => cellCost(i, 9, offset))).toEqual([6, 7, 3, 5, 4]);
    expect(cellCost(7, 1, offset)).toBe(1);
  });

  it('goes around an expensive wall where it is cheaper', async () => {
    const spec = { shape: [3, 3] };
    // Costs of max 1 are all 1: the cost is the number of steps, diagonals shorten it.
    expect(await pool.run('min_cost_path', spec, { start: [0, 0], end: [2, 2], costs: { max: 1, seed: 0 } })).toMatchObject({ cost: 4, length: 4 });
    expect(await pool.run('min_cost_path', spec, { start: [0, 0], end: [2, 2], costs: { max: 1, seed: 0 }, connectivity: 'full' })).toMatchObject({ cost: 2, length: 2 });
    expect(await pool.run('min_cost_path', spec, { start: [1, 1], end: [1, 1], costs: { max: 9, seed: 0 } })).toMatchObject({ cost: 0, length: 0, path: [[1, 1]] });
  });
});
