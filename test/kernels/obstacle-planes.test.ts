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
            for (let local = 0; local < slab.cells; local++) {
              const cell = slab.lo + local;
              const blocked = !open.includes(cell) && isBlockedBy(lattice.obstacles, cell);
              expect(getBit(bits, local), `${JSON.stringify(spec)} slab ${slab.index} cell ${cell}`).toBe(blocked ? 1 : 0);
            }
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
        for (let cell = 0; cell < lattice.cells; cell++) {
          expect(getBit(bits, cell)).toBe(isBlockedBy(lattice.obstacles, cell) ? 1 : 0);
        }
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
        const before = Array.from(data.subarray(0, size));
        const sorted = Array.from(order.order(data, size).subarray(0, size));
        expect([...sorted].sort((a, b) => a - b)).toEqual([...before].sort((a, b) => a - b));
        // Blocks ascend. A pass has at least 1024 buckets, so blocks are at most this coarse.
        let shift = 0;
        while (cells / 2 ** shift > 1024) shift++;
        for (let i = 1; i < size; i++) {
          const [a, b] = [sorted[i - 1]!, sorted[i]!];
          expect(Math.floor(a / 2 ** shift)).toBeLessThanOrEqual(Math.floor(b / 2 ** shift));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('leaves a small frontier untouched', () => {
    const data = Uint32Array.from([9, 3, 7]);
    expect(new FrontierOrder(10).order(data, 3)).toBe(data);
  });
});
