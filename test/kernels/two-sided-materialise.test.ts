/**
 * The two-thread search's procedural obstacles (two-sided-bfs.ts › materialise, the wasm's
 * `materialise`): every cell's nibble against the rule itself (isBlockedBy), on lattices of
 * several 2^16-cell chunks with cell counts that end mid-group and mid-word, seeds anywhere,
 * densities 0 and 1 among random ones, seeds of the rule whose hash input wraps past 2^32, and a
 * kept memory full of an earlier search's bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBlockedBy } from '../../shared/lattice/geometry.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import { SearchSide, twoSidedMemory } from '../../worker/kernels/two-sided-bfs.ts';

const caseArb = fc
  .record({
    rows: fc.integer({ min: 1, max: 70 }),
    cols: fc.integer({ min: 1, max: 4100 }),
    density: fc.oneof(fc.constantFrom(0, 1, 0.5), fc.double({ min: 0, max: 1, noNaN: true })),
    seed: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(0, 1, 2 ** 31 - 1)),
    first: fc.constantFrom<0 | 1>(0, 1),
  })
  .chain((c) => fc.record({ c: fc.constant(c), start: fc.integer({ min: 0, max: c.rows * c.cols - 1 }), end: fc.integer({ min: 0, max: c.rows * c.cols - 1 }) }));

describe('two-thread search: procedural obstacles as nibbles', () => {
  it('writes 3 for each blocked cell and 0 for each open one, the path ends open, over a dirty kept memory', () => {
    let kept: ReturnType<typeof twoSidedMemory> | null = null;
    fc.assert(
      fc.property(caseArb, ({ c, start, end }) => {
        const { rows, cols, density, seed, first } = c;
        const at = (cell: number): number[] => [Math.floor(cell / cols), cell % cols];
        const { lattice, params } = resolveJob('shortest_path', { shape: [rows, cols], obstacles: { density, seed } }, { start: at(start), end: at(end) });
        const memory = twoSidedMemory(lattice, undefined, kept);
        kept = memory;
        // What an earlier search may have left: every byte set.
        new Uint8Array(memory.buffer, 1024).fill(0xff);
        const side = new SearchSide(memory, lattice, params.start, params.end, 0);
        side.materialise(first);
        side.materialise(first === 0 ? 1 : 0);
        for (let cell = 0; cell < lattice.cells; cell++) {
          const open = cell === params.start || cell === params.end || !isBlockedBy(lattice.obstacles, cell);
          if (side.nibble(cell) !== (open ? 0 : 3)) expect.fail(`cell ${cell} of ${rows}×${cols} (density ${density}, seed ${seed}): nibble ${side.nibble(cell)}, ${open ? 'open' : 'blocked'}`);
        }
        side.seedBoth();
        expect(side.nibble(lattice.cells)).toBe(3);
        expect(side.nibble(params.start) & 1).toBe(1);
        expect(side.nibble(params.end) & 2).toBe(2);
      }),
      { numRuns: 120 },
    );
  });
});
