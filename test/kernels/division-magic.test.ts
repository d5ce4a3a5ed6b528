/**
 * The division magic the search's expansion multiplies by (division-magic.ts) against plain
 * division, for every divisor's extremes and random ones, over the whole range of cell indices.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { divideByMagic, divisionMagic } from '../../worker/kernels/division-magic.ts';

const MAX = 2 ** 31 - 1;

describe('divisionMagic', () => {
  it('divides exactly for 0 ≤ n < 2^31', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX }), fc.integer({ min: 0, max: MAX }), (d, n) => {
        const magic = divisionMagic(d);
        for (const x of [n, 0, MAX, d - 1, d, Math.min(MAX, d + 1), Math.floor(MAX / d) * d, Math.floor(MAX / d) * d - 1]) {
          if (x < 0) continue;
          expect(divideByMagic(x, magic), `${x} / ${d}`).toBe(Math.floor(x / d));
        }
        expect(magic.magic).toBeLessThanOrEqual(2n ** 32n);
      }),
      { numRuns: 3000 },
    );
    for (const d of [1, 2, 3, 7, 159, 25281, 2000, 3200, 2 ** 20, 2 ** 30, 2 ** 30 + 1, MAX]) {
      for (const n of [0, 1, d - 1, d, MAX - 1, MAX]) expect(divideByMagic(n, divisionMagic(d))).toBe(Math.floor(n / d));
    }
  });

  it('refuses divisors it cannot serve', () => {
    for (const d of [0, -1, 2 ** 31, 1.5]) expect(() => divisionMagic(d)).toThrow(RangeError);
  });
});
