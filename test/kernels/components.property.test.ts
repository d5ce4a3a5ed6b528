/** components against union-find on random small lattices, with 1, 2 and 4 slab threads. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { smallLatticeArb } from '../lattice/arbitraries.ts';
import { refComponents } from '../lattice/reference.ts';

const pool = new KernelPool({ threads: 4 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

describe('components', () => {
  it('counts clusters, the largest, the histogram and spanning as union-find does', async () => {
    let lattices = 0;
    await fc.assert(
      fc.asyncProperty(smallLatticeArb(), async ({ spec }) => {
        lattices++;
        const expected = refComponents(resolveLattice(spec));
        for (const threads of [1, 2, 4]) {
          const { memory_bytes, ...result } = await pool.run('components', spec, {}, { threads });
          expect(result, `${JSON.stringify(spec)} threads ${threads}`).toEqual(expected);
          expect(memory_bytes).toBeGreaterThan(0);
        }
      }),
      { numRuns: 800 },
    );
    expect(lattices).toBeGreaterThanOrEqual(800);
  }, 120_000);

  it('sees a cluster spanning axis 0 only when one does', async () => {
    const wall = { shape: [5, 3], obstacles: { blocked: [[2, 0], [2, 1], [2, 2]] } };
    expect(await pool.run('components', wall, {}, { threads: 2 })).toMatchObject({ count: 2, largest: 6, spans_axis0: false });
    const open = { shape: [5, 3] };
    expect(await pool.run('components', open, {}, { threads: 4 })).toMatchObject({ count: 1, largest: 15, histogram: [0, 0, 0, 1], spans_axis0: true });
  });

  it('joins clusters across the periodic seam of axis 0 between slabs', async () => {
    const spec = { shape: [8, 2], boundary: 'periodic' as const, obstacles: { blocked: [[3, 0], [3, 1]] } };
    expect(await pool.run('components', spec, {}, { threads: 4 })).toMatchObject({ count: 1, largest: 14 });
  });

  it('reports no cluster on a fully blocked lattice', async () => {
    const spec = { shape: [4, 4], obstacles: { density: 1, seed: 3 } };
    expect(await pool.run('components', spec, {}, { threads: 2 })).toMatchObject({ count: 0, largest: 0, histogram: [], spans_axis0: false });
  });
});
