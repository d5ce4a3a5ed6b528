/**
 * percolation against components runs at its sampled densities (the same lattice, {density,
 * seed} under the public rule), on random small lattices.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { smallLatticeArb } from '../lattice/arbitraries.ts';

const pool = new KernelPool({ threads: 1 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

describe('percolation', () => {
  it('matches components at every sampled density: largest cluster and spanning of axis 0', async () => {
    const cases = smallLatticeArb().chain((l) => fc.record({ l: fc.constant(l), seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }), points: fc.integer({ min: 2, max: 12 }) }));
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, seed, points }) => {
        const spec = { ...l.spec, obstacles: undefined };
        const result = await pool.run('percolation', spec, { seed, points });
        expect(result.points).toHaveLength(points);
        const cells = l.shape.reduce((p, s) => p * s, 1);
        for (const point of result.points) {
          const components = await pool.run('components', { ...spec, obstacles: { density: point.density, seed } }, {});
          const label = JSON.stringify({ spec, seed, density: point.density });
          expect(point.largest, label).toBe(components.largest);
          expect(point.spans_axis0, label).toBe(components.spans_axis0);
          expect(point.largest_fraction).toBeCloseTo(components.largest / cells, 12);
        }
        // The exact spanning density agrees with the samples on either side of it.
        for (const point of result.points) {
          const below = result.spans_axis0_below_density !== null && point.density < result.spans_axis0_below_density;
          expect(point.spans_axis0).toBe(below);
        }
      }),
      { numRuns: 150 },
    );
  }, 90_000);
});
