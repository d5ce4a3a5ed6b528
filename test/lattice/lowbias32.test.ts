/**
 * The procedural obstacle rule is public (docs/architecture.md › The lattice model): clients rebuild lattices from it, so it
 * must never drift. These values were computed outside this code base, from the published
 * formula, and are pinned here together with an independent BigInt implementation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockThreshold, isProcedurallyBlocked, lowbias32, seedOffset } from '../../shared/lattice/lowbias32.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { isBlockedBy } from '../../shared/lattice/geometry.ts';

const MASK = 0xffffffffn;

/** The published formula in 64-bit BigInt arithmetic, reduced mod 2^32 by hand. */
function lowbias32BigInt(value: number): number {
  let x = BigInt(value) & MASK;
  x ^= x >> 16n;
  x = (x * 0x7feb352dn) & MASK;
  x ^= x >> 15n;
  x = (x * 0x846ca68bn) & MASK;
  x ^= x >> 16n;
  return Number(x);
}

describe('lowbias32', () => {
  it('matches pinned values', () => {
    expect(lowbias32(0)).toBe(0);
    expect(lowbias32(1)).toBe(1753845952);
    expect(lowbias32(2)).toBe(3507691905);
    expect(lowbias32(3)).toBe(1408362973);
    expect(lowbias32(42)).toBe(388445122);
    expect(lowbias32(0xdeadbeef)).toBe(3861431939);
    expect(lowbias32(0xffffffff)).toBe(1734902346);
  });

  it('agrees with an independent BigInt implementation', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (x) => lowbias32(x) === lowbias32BigInt(x)),
      { numRuns: 5000 },
    );
  });

  it('derives the seed offset and threshold as published', () => {
    expect(seedOffset(7)).toBe(1401181199);
    expect(seedOffset(123456789)).toBe(3133743405);
    expect(blockThreshold(0)).toBe(0);
    expect(blockThreshold(0.5)).toBe(2 ** 31);
    expect(blockThreshold(1)).toBe(2 ** 32);
  });
});

describe('procedural obstacles', () => {
  it('blocks the pinned cells of a 4x4 lattice, density 0.5, seed 7', () => {
    const lattice = resolveLattice({ shape: [4, 4], obstacles: { density: 0.5, seed: 7 } });
    const blocked = Array.from({ length: 16 }, (_, i) => i).filter((i) => isBlockedBy(lattice.obstacles, i));
    expect(blocked).toEqual([2, 5, 6, 10, 12, 14]);
  });

  it('blocks the pinned cells for density 0.3, seed 123456789', () => {
    const lattice = resolveLattice({ shape: [20], obstacles: { density: 0.3, seed: 123456789 } });
    const blocked = Array.from({ length: 20 }, (_, i) => i).filter((i) => isBlockedBy(lattice.obstacles, i));
    expect(blocked).toEqual([1, 5, 10, 15, 19]);
  });

  it('pins cells of the benchmark lattices (density 0.2, seed 7)', () => {
    const rule = { threshold: blockThreshold(0.2), offset: seedOffset(7) };
    const pinned: [number, boolean][] = [
      [0, false],
      [1, false],
      [2, true],
      [99, false],
      [100, false],
      [999_999, true],
    ];
    for (const [cell, blocked] of pinned) expect(isProcedurallyBlocked(cell, rule.threshold, rule.offset)).toBe(blocked);
  });

  it('blocks nothing at density 0 and everything at density 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (cell, seed) => {
        return (
          !isProcedurallyBlocked(cell, blockThreshold(0), seedOffset(seed)) &&
          isProcedurallyBlocked(cell, blockThreshold(1), seedOffset(seed))
        );
      }),
    );
  });

  it('blocks about the density asked for', () => {
    const rule = { threshold: blockThreshold(0.2), offset: seedOffset(7) };
    let blocked = 0;
    for (let i = 0; i < 100_000; i++) if (isProcedurallyBlocked(i, rule.threshold, rule.offset)) blocked++;
    expect(blocked / 100_000).toBeGreaterThan(0.19);
    expect(blocked / 100_000).toBeLessThan(0.21);
  });
});
