/**
 * Bit-packed per-cell arrays over SharedArrayBuffers, one per slab: 1 bit per cell for
 * obstacles (and marks), 2 bits per cell for search state. Words are Int32 so Atomics work on
 * them, and each slab has its own buffer so no word is ever shared by two slabs' owners.
 */
import { sortedLowerBound } from '../../shared/lattice/geometry.ts';
import { lowbias32 } from '../../shared/lattice/lowbias32.ts';
import type { Slab } from './slabs.ts';
import type { ObstacleRule } from '../../shared/lattice/types.ts';

/** Bytes of a 1-bit-per-cell array. */
export function bitArrayBytes(cells: number): number {
  return Math.ceil(cells / 32) * 4;
}

/** Bytes of a 2-bit-per-cell array. */
export function pairArrayBytes(cells: number): number {
  return Math.ceil(cells / 16) * 4;
}

/** A zeroed 1-bit-per-cell array in shared memory. */
export function sharedBitArray(cells: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(bitArrayBytes(cells)));
}

/** A zeroed 2-bit-per-cell array in shared memory. */
export function sharedPairArray(cells: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(pairArrayBytes(cells)));
}

/** Bit `i` (0 or 1). Indices up to 2^32 - 1 work: `>>>` reads them as unsigned. */
export function getBit(bits: Int32Array, i: number): number {
  return (bits[i >>> 5]! >>> (i & 31)) & 1;
}

/** Sets bit `i`. Only the slab's owner thread writes, so no atomic is needed. */
export function setBit(bits: Int32Array, i: number): void {
  bits[i >>> 5]! |= 1 << (i & 31);
}

/** Clears bit `i`. */
export function clearBit(bits: Int32Array, i: number): void {
  bits[i >>> 5]! &= ~(1 << (i & 31));
}

/** The 2-bit value of cell `i`. */
export function getPair(pairs: Int32Array, i: number): number {
  return (pairs[i >>> 4]! >>> ((i & 15) << 1)) & 3;
}

/** Sets the 2-bit value of cell `i` (which must be 0 before). */
export function orPair(pairs: Int32Array, i: number, value: number): void {
  pairs[i >>> 4]! |= value << ((i & 15) << 1);
}

/**
 * Sets the bits of a slab's explicitly blocked cells, leaving the job's own cells open.
 *
 * @param bits - the slab's 1-bit array, indexed locally
 * @param blocked - sorted global indices of blocked cells
 * @param open - global indices that stay open whatever the list says
 */
export function presetExplicitObstacles(bits: Int32Array, slab: Slab, blocked: Float64Array, open: readonly number[]): void {
  const end = slab.lo + slab.cells;
  for (let k = sortedLowerBound(blocked, slab.lo); k < blocked.length && blocked[k]! < end; k++) {
    setBit(bits, blocked[k]! - slab.lo);
  }
  clearOpen(bits, slab, open);
}

/**
 * Materialises a slab's obstacles into its 1-bit array (1 = blocked), for kernels that read
 * every cell every step. Calls `tick` between chunks so a long fill can be cancelled.
 *
 * @param tick - called with the number of cells done so far; may throw to stop
 */
export function fillObstacles(
  bits: Int32Array,
  slab: Slab,
  obstacles: ObstacleRule,
  open: readonly number[],
  tick: (done: number) => void,
): void {
  if (obstacles.kind === 'explicit') presetExplicitObstacles(bits, slab, obstacles.blocked, open);
  if (obstacles.kind === 'map') presetMapObstacles(bits, slab, obstacles.bits, open);
  if (obstacles.kind !== 'procedural') return;
  const { threshold, offset } = obstacles;
  const words = Math.ceil(slab.cells / 32);
  const CHUNK_WORDS = 2048;
  for (let w0 = 0; w0 < words; w0 += CHUNK_WORDS) {
    tick(w0 * 32);
    const w1 = Math.min(words, w0 + CHUNK_WORDS);
    for (let w = w0; w < w1; w++) {
      // Whole words at a time: 32 hashes, one store.
      const base = slab.lo + w * 32;
      const count = Math.min(32, slab.cells - w * 32);
      let word = 0;
      for (let b = 0; b < count; b++) {
        if (lowbias32((base + b + offset) >>> 0) < threshold) word |= 1 << b;
      }
      bits[w] = word;
    }
  }
  clearOpen(bits, slab, open);
}

/**
 * Sets a slab's blocked bits from an uploaded map (packed bits, 1 = blocked, global indices).
 *
 * @param open - global indices that stay open whatever the map says
 */
export function presetMapObstacles(bits: Int32Array, slab: Slab, map: Uint8Array, open: readonly number[]): void {
  for (let local = 0; local < slab.cells; local++) {
    const cell = slab.lo + local;
    if ((map[Math.floor(cell / 8)]! >>> cell % 8) & 1) setBit(bits, local);
  }
  clearOpen(bits, slab, open);
}

function clearOpen(bits: Int32Array, slab: Slab, open: readonly number[]): void {
  for (const cell of open) {
    if (cell >= slab.lo && cell < slab.lo + slab.cells) clearBit(bits, cell - slab.lo);
  }
}
