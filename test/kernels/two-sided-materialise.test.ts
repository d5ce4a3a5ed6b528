/**
 * The two-thread search's procedural obstacles (two-sided-bfs.ts › materialise, the wasm's
 * `materialise`): every cell's nibble against the rule itself (isBlockedBy), on lattices of
 * several 2^16-cell chunks with cell counts that end mid-group and mid-word, seeds anywhere,
 * densities 0 and 1 among random ones, seeds of the rule whose hash input wraps past 2^32, and a
 * kept memory full of an earlier search's bytes. Either thread may materialise every piece and
 * seed both sides (materialiseShared): a thread that starts late finds nothing left to do.
 */
import fc from 'fast-check';
import { isBlockedBy } from '../../shared/lattice/geometry.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import { describe, expect, it, vi } from 'vitest';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { SearchSide, twoSidedMemory } from '../../worker/kernels/two-sided-bfs.ts';
import { MATERIALISE_PIECES, awaitSeeded, materialiseShared, pieceOf } from '../../worker/kernels/two-sided-search.ts';

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

  it('pieces cover the chunks once, in order, halves as before', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 40 }), (chunks, pieces) => {
        const covered: number[] = [];
        for (let p = 0; p < pieces; p++) {
          const [from, to] = pieceOf(chunks, p, pieces);
          for (let c = from; c < to; c++) covered.push(c);
        }
        expect(covered).toEqual(Array.from({ length: chunks }, (_, c) => c));
        expect(pieceOf(chunks, 0, 2)).toEqual([0, Math.ceil(chunks / 2)]);
      }),
    );
  });

  it('one thread alone materialises every piece and seeds both sides; the other then finds nothing left', () => {
    fc.assert(
      fc.property(caseArb, ({ c, start, end }) => {
        const { rows, cols, density, seed } = c;
        const at = (cell: number): number[] => [Math.floor(cell / cols), cell % cols];
        const { lattice, params } = resolveJob('shortest_path', { shape: [rows, cols], obstacles: { density, seed } }, { start: at(start), end: at(end) });
        const reference = new SearchSide(twoSidedMemory(lattice), lattice, params.start, params.end, 0);
        reference.materialise(0);
        reference.materialise(1);
        reference.seedBoth();
        const memory = twoSidedMemory(lattice);
        new Uint8Array(memory.buffer, 1024).fill(0xff);
        const control = JobControl.createPrivate(2);
        const early = new SearchSide(memory, lattice, params.start, params.end, 1);
        const pieces = vi.spyOn(early, 'materialisePiece');
        materialiseShared(early, control);
        expect(pieces).toHaveBeenCalledTimes(MATERIALISE_PIECES);
        awaitSeeded(early.sync, control);
        const late = new SearchSide(memory, lattice, params.start, params.end, 0);
        const latePieces = vi.spyOn(late, 'materialisePiece');
        materialiseShared(late, control);
        awaitSeeded(late.sync, control);
        expect(latePieces).not.toHaveBeenCalled();
        for (let cell = 0; cell <= lattice.cells; cell++) {
          if (late.nibble(cell) !== reference.nibble(cell)) expect.fail(`cell ${cell} of ${rows}×${cols}: ${late.nibble(cell)}, reference ${reference.nibble(cell)}`);
        }
      }),
      { numRuns: 60 },
    );
  });
});
