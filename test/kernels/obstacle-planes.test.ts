/**
 * The obstacle bit plane against the public rule, cell by cell: whatever the slab, the order in
 * which blocks are materialised, the density (0 and 1 included) and the seed; and the frontier
 * order as a stable sort by block.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getBit } from '../../worker/kernels/bit-slab.ts';
import { isBlockedBy } from '../../shared/lattice/geometry.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { planSlabs } from '../../worker/kernels/slabs.ts';
import { FrontierOrder } from '../../worker/kernels/frontier-order.ts';
import { ObstaclePlanes } from '../../worker/kernels/obstacle-planes.ts';
import { smallLatticeArb } from '../lattice/arbitraries.ts';

describe('ObstaclePlanes', () => {
  it('materialises exactly the blocked cells of a slab, in any block order, ends kept open', () => {
    fc.assert(
      fc.property(
        smallLatticeArb(),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        ({ spec }, wantedSlabs, picks, openPick) => {
          const lattice = resolveLattice(spec);
          const slabs = planSlabs(lattice, Math.min(wantedSlabs, lattice.shape[0]!));
          const open = [openPick % lattice.cells];
          for (const slab of slabs) {
            const bits = new Int32Array(Math.ceil(slab.cells / 32) + 1);
            const planes = new ObstaclePlanes(bits, lattice, slab, open);
            // Some blocks first, in a random order (twice is fine), then the rest.
            for (const pick of picks) planes.ensureRow(pick % slab.rows);
            planes.materialiseAll();
            // One assertion per slab (its cells' bits against the rule's), not one per cell: as strict, and far faster.
            const actual = Array.from({ length: slab.cells }, (_, local) => getBit(bits, local));
            const expected = Array.from({ length: slab.cells }, (_, local) => {
              const cell = slab.lo + local;
              return !open.includes(cell) && isBlockedBy(lattice.obstacles, cell) ? 1 : 0;
            });
            expect(actual, `${JSON.stringify(spec)} slab ${slab.index} from cell ${slab.lo}`).toEqual(expected);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('follows the rule at densities 0 and 1, and for offsets that wrap past 2^32', () => {
    for (const density of [0, 1, 0.5]) {
      for (const seed of [0, 1, 2 ** 32 - 1]) {
        const lattice = resolveLattice({ shape: [37, 45], obstacles: { density, seed } });
        const slab = planSlabs(lattice, 1)[0]!;
        const bits = new Int32Array(Math.ceil(slab.cells / 32));
        new ObstaclePlanes(bits, lattice, slab, []).materialiseAll();
        const actual = Array.from({ length: lattice.cells }, (_, cell) => getBit(bits, cell));
        const expected = Array.from({ length: lattice.cells }, (_, cell) => (isBlockedBy(lattice.obstacles, cell) ? 1 : 0));
        expect(actual, `density ${density} seed ${seed}`).toEqual(expected);
      }
    }
  });
});

describe('FrontierOrder', () => {
  it('sorts a large frontier by block, keeping every cell once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 32 }), fc.integer({ min: 8192, max: 30_000 }), fc.nat(), (cells, size, salt) => {
        const order = new FrontierOrder(cells);
        const data = Uint32Array.from({ length: size + 7 }, (_, i) => Math.floor(Math.abs(Math.sin(i + salt)) * cells) % cells);
        const before = data.slice(0, size);
        const sorted = order.order(data, size).slice(0, size);
        // The same cells (typed arrays sort numerically). The arrays are compared in plain code and
        // the first difference asserted: toEqual on 30,000 elements, or an expect per cell, takes seconds.
        const [got, want] = [sorted.slice().sort(), before.sort()];
        const differs = got.findIndex((cell, i) => cell !== want[i]);
        expect(differs, differs < 0 ? '' : `sorted cells differ at ${differs}: ${got[differs]} for ${want[differs]}`).toBe(-1);
        // Blocks ascend. A pass has at least 1024 buckets, so blocks are at most this coarse.
        let shift = 0;
        while (cells / 2 ** shift > 1024) shift++;
        const block = (cell: number) => Math.floor(cell / 2 ** shift);
        const descent = sorted.findIndex((cell, i) => i > 0 && block(sorted[i - 1]!) > block(cell));
        expect(descent, descent < 0 ? '' : `cells ${sorted[descent - 1]} then ${sorted[descent]} at ${descent}`).toBe(-1);
      }),
      { numRuns: 30 },
    );
  });

  it('leaves a small frontier untouched', () => {
    const data = Uint32Array.from([9, 3, 7]);
    expect(new FrontierOrder(10).order(data, 3)).toBe(data);
  });
});
