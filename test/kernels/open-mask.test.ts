/** The row materialisers of the kernels against the plain obstacle rule, cell by cell. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBlockedBy } from '../../shared/lattice/geometry.ts';
import { blockThreshold, seedOffset } from '../../shared/lattice/lowbias32.ts';
import type { ObstacleRule } from '../../shared/lattice/types.ts';
import { fillOpenBytes, fillOpenLines, lineWords } from '../../worker/kernels/open-mask.ts';

/** Procedural rules, with densities at the edges (0, 1, a hair above 0) and any seed. */
const proceduralArb: fc.Arbitrary<ObstacleRule> = fc
  .record({
    density: fc.oneof(fc.constantFrom(0, 1, 2 ** -32, 1 - 2 ** -32), fc.double({ min: 0, max: 1, noNaN: true })),
    seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  })
  .map(({ density, seed }) => ({ kind: 'procedural', density, seed, threshold: blockThreshold(density), offset: seedOffset(seed) }));

/** Sorted explicit lists over the cells near `start`. */
function explicitArb(start: number, span: number): fc.Arbitrary<ObstacleRule> {
  return fc
    .uniqueArray(fc.integer({ min: Math.max(0, start - 5), max: start + span + 5 }), { maxLength: span })
    .map((cells) => ({ kind: 'explicit', blocked: Float64Array.from(cells.sort((a, b) => a - b)) }));
}

const caseArb = fc
  .record({
    // Starts near 2^32 too, where start + offset wraps.
    start: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 2 ** 32 - 3000, max: 2 ** 32 - 1 })),
    lineCells: fc.integer({ min: 1, max: 130 }),
    lines: fc.integer({ min: 1, max: 5 }),
  })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      obstacles: fc.oneof(proceduralArb, explicitArb(shape.start, shape.lineCells * shape.lines), fc.constant<ObstacleRule>({ kind: 'none' })),
      open: fc.array(fc.integer({ min: shape.start, max: shape.start + shape.lineCells * shape.lines - 1 }), { maxLength: 3 }),
    }),
  );

function expectedOpen(obstacles: ObstacleRule, cell: number, open: readonly number[]): number {
  return open.includes(cell) || !isBlockedBy(obstacles, cell) ? 1 : 0;
}

describe('open masks', () => {
  it('fills line bit planes as the obstacle rule says, with zero bits past each line', () => {
    fc.assert(
      fc.property(caseArb, ({ shape: { start, lineCells, lines }, obstacles, open }) => {
        const perLine = lineWords(lineCells);
        const words = new Int32Array(lines * perLine).fill(-1);
        fillOpenLines(words, start, lineCells, lines, obstacles, open);
        for (let k = 0; k < lines; k++) {
          for (let x = 0; x < perLine * 32; x++) {
            const bit = (words[k * perLine + (x >>> 5)]! >>> (x & 31)) & 1;
            const want = x < lineCells ? expectedOpen(obstacles, start + k * lineCells + x, open) : 0;
            if (bit !== want) throw new Error(`line ${k} cell ${x}: ${bit} instead of ${want}`);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('fills byte masks at an offset as the obstacle rule says', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 0, max: 7 }), ({ shape: { start, lineCells, lines }, obstacles, open }, at) => {
        const count = lineCells * lines;
        const mask = new Uint8Array(at + count + 3).fill(9);
        fillOpenBytes(mask, at, start, count, obstacles, open);
        for (let i = 0; i < count; i++) expect(mask[at + i]).toBe(expectedOpen(obstacles, start + i, open));
        for (let i = 0; i < at; i++) expect(mask[i]).toBe(9);
        expect(Array.from(mask.subarray(at + count))).toEqual([9, 9, 9]);
      }),
      { numRuns: 400 },
    );
  });
});
