/**
 * The public procedural obstacle rule (docs/architecture.md › The lattice model). Any client can reproduce a lattice from
 * `{density, seed}` with these few lines, so they must never change: a test pins known cells.
 */

/** 2^32 as a number, the range of the hash. */
const TWO_POW_32 = 2 ** 32;

/** The golden-ratio constant that spreads seeds over the hash input. */
const SEED_MULTIPLIER = 0x9e3779b9;

/**
 * Chris Wellons' lowbias32 integer hash: a bijection on unsigned 32-bit integers.
 *
 * @param x - an unsigned 32-bit integer
 * @returns the hash, an unsigned 32-bit integer
 */
export function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The hash threshold for a density: a cell is blocked when its hash is below it.
 * `floor(p · 2^32)`, so density 1 blocks every cell and density 0 none.
 */
export function blockThreshold(density: number): number {
  return Math.min(TWO_POW_32, Math.floor(density * TWO_POW_32));
}

/** The seed's additive offset, `imul(seed, 0x9e3779b9)` as an unsigned integer. */
export function seedOffset(seed: number): number {
  return Math.imul(seed, SEED_MULTIPLIER) >>> 0;
}

/**
 * Whether cell `index` is blocked under the procedural rule.
 *
 * @param index - the row-major cell index, in [0, 2^32)
 * @param threshold - {@link blockThreshold} of the density
 * @param offset - {@link seedOffset} of the seed
 */
export function isProcedurallyBlocked(index: number, threshold: number, offset: number): boolean {
  // index + offset < 2^33 is exact in a double, and `>>> 0` reduces it mod 2^32 as the rule says.
  return lowbias32((index + offset) >>> 0) < threshold;
}
