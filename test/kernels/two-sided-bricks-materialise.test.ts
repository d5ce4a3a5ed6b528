/**
 * The two-thread search's obstacles in bricks (two-sided-bricks.ts › materialise: procedural
 * obstacles hashed straight into nibbles, the padding from masks, the wasm's `materialise`)
 * against the byte-plane route (`materialisePlane`) word for word, and every cell against the
 * rule itself (isBlockedBy; padding 3): ragged sides (a last brick of padding only, groups of
 * lanes half past a side), sides of one cell, densities 0 and 1, no obstacles, seeds whose hash
 * input wraps past 2^32, the path's ends anywhere, the two halves in either order, over a kept
 * memory full of an earlier search's bytes. Bricks are for open boundaries only: a periodic
 * lattice takes no brick layout.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { isBlockedBy } from '../../shared/lattice/geometry.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import { BrickObstacles } from '../../worker/kernels/brick-obstacles.ts';
import { BrickSearchSide, twoSidedBricksLayout, twoSidedBricksMemory } from '../../worker/kernels/two-sided-bricks.ts';
import { cellArb } from '../lattice/arbitraries.ts';

/** Sides around brick edges (bricksAlong: 7, 15 and 23 end a layout in a brick of padding only) and any from 1 to 40. */
const sideArb = fc.oneof(fc.constantFrom(1, 5, 6, 7, 8, 9, 13, 14, 15, 22, 23), fc.integer({ min: 1, max: 40 }));

/** A seed whose offset is 2^32 - 3000: hash inputs wrap past 2^32 within the lattice. */
const WRAPPING_SEED = 482253448;

const caseArb = fc
  .tuple(sideArb, sideArb, sideArb)
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      obstacles: fc.oneof(
        { weight: 6, arbitrary: fc.record({ density: fc.oneof(fc.constantFrom(0, 1, 0.5), fc.double({ min: 0, max: 1, noNaN: true })), seed: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, 1, 2 ** 31 - 1, 2 ** 32 - 1, WRAPPING_SEED)) }) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
      start: cellArb(shape),
      end: cellArb(shape),
      first: fc.constantFrom<0 | 1>(0, 1),
    }),
  );

describe('two-thread search in bricks: obstacles hashed into nibbles', () => {
  it('writes the byte-plane route’s words and the rule’s cells, padding 3, over a dirty kept memory', () => {
    let kept: ReturnType<typeof twoSidedBricksMemory> | null = null;
    const coords = new Int32Array(3);
    fc.assert(
      fc.property(caseArb, ({ shape, obstacles, start, end, first }) => {
        const spec = obstacles === undefined ? { shape } : { shape, obstacles };
        const { lattice, params } = resolveJob('shortest_path', spec, { start, end });
        const bricks = twoSidedBricksLayout(lattice, Infinity)!;
        const label = JSON.stringify({ shape, obstacles, start, end, first });
        // Two memories: the fused route in a kept one (every byte set, as a last search may leave it), the plane route fresh.
        const fusedMemory = twoSidedBricksMemory(bricks, undefined, kept);
        kept = fusedMemory;
        const fused = new BrickSearchSide(fusedMemory, lattice, bricks, params.start, params.end, 0);
        new Uint8Array(fusedMemory.buffer, 64).fill(0xff);
        const plane = new BrickSearchSide(twoSidedBricksMemory(bricks), lattice, bricks, params.start, params.end, 1);
        const second = first === 0 ? 1 : 0;
        // The fused route makes no byte plane; the plane route does.
        const planeSlabs = vi.spyOn(BrickObstacles.prototype, 'materialise');
        try {
          fused.materialise(first);
          fused.materialise(second);
          expect(planeSlabs).not.toHaveBeenCalled();
          plane.materialisePlane(first);
          plane.materialisePlane(second);
          expect(planeSlabs).toHaveBeenCalledTimes(bricks.b0);
        } finally {
          planeSlabs.mockRestore();
        }
        for (let w = 0; w < bricks.cells / 8; w++) {
          if (fused.words[w] !== plane.words[w]) expect.fail(`word ${w} (cells ${8 * w}..): fused ${(fused.words[w]! >>> 0).toString(16)}, plane ${(plane.words[w]! >>> 0).toString(16)}; ${label}`);
        }
        const [n0, n1, n2] = shape;
        for (let cell = 0; cell < bricks.cells; cell++) {
          bricks.coordsOf(cell, coords);
          const [x0, x1, x2] = coords;
          const inside = x0! >= 0 && x0! < n0 && x1! >= 0 && x1! < n1 && x2! >= 0 && x2! < n2;
          const index = inside ? (x0! * n1 + x1!) * n2 + x2! : -1;
          const want = !inside ? 3 : index === params.start || index === params.end || !isBlockedBy(lattice.obstacles, index) ? 0 : 3;
          if (fused.nibble(cell) !== want) expect.fail(`cell ${cell} at (${x0}, ${x1}, ${x2}): nibble ${fused.nibble(cell)}, want ${want}; ${label}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('takes no periodic lattice (the padding is what stands for the boundary)', () => {
    const { lattice } = resolveJob('shortest_path', { shape: [20, 20, 20], boundary: 'periodic', obstacles: { density: 0.3, seed: 1 } }, { start: [0, 0, 0], end: [19, 19, 19] });
    expect(twoSidedBricksLayout(lattice, Infinity)).toBeNull();
    const open = resolveJob('shortest_path', { shape: [20, 20, 20], obstacles: { density: 0.3, seed: 1 } }, { start: [0, 0, 0], end: [19, 19, 19] });
    expect(twoSidedBricksLayout(open.lattice, Infinity)).not.toBeNull();
  });
});
