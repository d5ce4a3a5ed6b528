/**
 * Materialises the open cells of a run of lines into bit planes, 1 for open and 0 for blocked,
 * in one tight pass: the procedural hash over consecutive indices, 16 cells at a time in
 * WebAssembly SIMD (open-mask-wasm.ts) and without a branch, explicit obstacles cleared from
 * their sorted list, an uploaded map's blocked bits cleared, and a job's own cells opened last. Kernels that read every cell fill one row at a time
 * and then only read words.
 *
 * Layout: line k (cells `[start + k·lineCells, start + (k+1)·lineCells)`) takes the words
 * `[k·w, (k+1)·w)` with `w = lineWords(lineCells)`, cell x at bit `x & 31` of word `x >> 5`; the
 * bits past the line's end are 0, so a line's words can be scanned without knowing its length.
 */
import { sortedLowerBound } from '../../shared/lattice/geometry.ts';
import type { ObstacleRule } from '../../shared/lattice/types.ts';
import { MAX_WASM_LINE_WORDS, fillProceduralBitsWasm, fillProceduralBytesWasm } from './open-mask-wasm.ts';

const TWO_POW_32 = 4294967296;
const TWO_POW_31 = 2147483648;

/** Words per line of `lineCells` cells. */
export function lineWords(lineCells: number): number {
  return Math.ceil(lineCells / 32);
}

/**
 * Fills the bits of `lines` lines of `lineCells` cells from global cell `start`.
 *
 * @param open - global indices that stay open whatever the obstacles say
 */
export function fillOpenLines(
  words: Int32Array,
  start: number,
  lineCells: number,
  lines: number,
  obstacles: ObstacleRule,
  open: readonly number[] = [],
): void {
  const perLine = lineWords(lineCells);
  const threshold = obstacles.kind === 'procedural' ? obstacles.threshold : 0;
  if (obstacles.kind === 'procedural' && threshold > 0) {
    if (threshold >= TWO_POW_32) words.fill(0, 0, lines * perLine);
    else if (perLine <= MAX_WASM_LINE_WORDS) fillProceduralBitsWasm(words, lines, lineCells, perLine, (start + obstacles.offset) % TWO_POW_32, threshold);
    else for (let k = 0; k < lines; k++) fillProceduralLine(words, k * perLine, start + k * lineCells, lineCells, threshold, obstacles.offset);
  } else {
    fillAllOpen(words, lineCells, lines);
  }
  const end = start + lines * lineCells;
  if (obstacles.kind === 'explicit') {
    const blocked = obstacles.blocked;
    for (let k = sortedLowerBound(blocked, start); k < blocked.length && blocked[k]! < end; k++) setCell(words, blocked[k]! - start, lineCells, perLine, 0);
  }
  if (obstacles.kind === 'map') {
    for (let k = 0; k < lines; k++) clearMapLine(words, k * perLine, obstacles.bits, start + k * lineCells, lineCells);
  }
  for (const cell of open) if (cell >= start && cell < end) setCell(words, cell - start, lineCells, perLine, 1);
}

/** Clears the blocked cells of one line (global cells `[from, from + cells)`) read from a packed map. */
function clearMapLine(words: Int32Array, at: number, bits: Uint8Array, from: number, cells: number): void {
  for (let x = 0; x < cells; x += 32) {
    const count = Math.min(32, cells - x);
    let blocked = 0;
    for (let b = 0; b < count; b++) {
      const cell = from + x + b;
      blocked |= ((bits[Math.floor(cell / 8)]! >>> cell % 8) & 1) << b;
    }
    words[at + (x >>> 5)]! &= ~blocked;
  }
}

function fillAllOpen(words: Int32Array, lineCells: number, lines: number): void {
  const perLine = lineWords(lineCells);
  const tail = lineCells & 31;
  for (let k = 0; k < lines; k++) {
    words.fill(-1, k * perLine, (k + 1) * perLine);
    if (tail !== 0) words[(k + 1) * perLine - 1] = (1 << tail) - 1;
  }
}

function setCell(words: Int32Array, local: number, lineCells: number, perLine: number, open: 0 | 1): void {
  const line = Math.floor(local / lineCells);
  const x = local - line * lineCells;
  const w = line * perLine + (x >>> 5);
  if (open === 1) words[w]! |= 1 << (x & 31);
  else words[w]! &= ~(1 << (x & 31));
}

/**
 * lowbias32 of each index against the threshold (0 < threshold < 2^32): the rule of
 * shared/lattice/lowbias32.ts. For lines too long for the WebAssembly fill.
 */
function fillProceduralLine(words: Int32Array, at: number, start: number, cells: number, threshold: number, offset: number): void {
  // start + offset < 2^33 is exact; `| 0` keeps the low 32 bits, as the rule's `>>> 0` does.
  let h = ((start + offset) % TWO_POW_32) | 0;
  // Unsigned comparison on int32s: flip the top bit of both sides.
  const flipped = (threshold - TWO_POW_31) | 0;
  for (let done = 0; done < cells; done += 32) {
    const count = Math.min(32, cells - done);
    let word = 0;
    for (let b = 0; b < count; b++) {
      let x = h;
      h = (h + 1) | 0;
      x ^= x >>> 16;
      x = Math.imul(x, 0x7feb352d);
      x ^= x >>> 15;
      x = Math.imul(x, 0x846ca68b);
      x ^= x >>> 16;
      // 1 when hash >= threshold (open): the difference is in (-2^32, 2^32), so floor(/2^32) is -1 or 0.
      word |= (1 + Math.floor(((x ^ -2147483648) - flipped) / TWO_POW_32)) << b;
    }
    words[at + (done >>> 5)] = word;
  }
}

/** Cells {@link fillOpenMask} fills between two cancel checks. */
const MASK_CHUNK_CELLS = 1 << 20;

/**
 * {@link fillOpenBytes} over a whole lattice, a chunk of cells at a time with `checkpoint()`
 * between chunks, so a run on a huge lattice can be cancelled while its mask is built.
 */
export function fillOpenMask(mask: Uint8Array, obstacles: ObstacleRule, open: readonly number[], checkpoint: () => void): void {
  for (let at = 0; at < mask.length; at += MASK_CHUNK_CELLS) {
    checkpoint();
    fillOpenBytes(mask, at, at, Math.min(MASK_CHUNK_CELLS, mask.length - at), obstacles, open);
  }
}

/**
 * Fills `mask[at .. at + count)` with the openness (1 open, 0 blocked) of global cells
 * `[start, start + count)`, a byte per cell.
 *
 * @param open - global indices that stay open whatever the obstacles say
 */
export function fillOpenBytes(mask: Uint8Array, at: number, start: number, count: number, obstacles: ObstacleRule, open: readonly number[] = []): void {
  const threshold = obstacles.kind === 'procedural' ? obstacles.threshold : 0;
  if (obstacles.kind === 'procedural' && threshold > 0) {
    if (threshold >= TWO_POW_32) mask.fill(0, at, at + count);
    else fillProceduralBytesWasm(mask, at, count, (start + obstacles.offset) % TWO_POW_32, threshold);
  } else {
    mask.fill(1, at, at + count);
  }
  const end = start + count;
  if (obstacles.kind === 'explicit') {
    const blocked = obstacles.blocked;
    for (let k = sortedLowerBound(blocked, start); k < blocked.length && blocked[k]! < end; k++) mask[at + blocked[k]! - start] = 0;
  }
  if (obstacles.kind === 'map') {
    const bits = obstacles.bits;
    for (let i = 0; i < count; i++) {
      const cell = start + i;
      if ((bits[Math.floor(cell / 8)]! >>> cell % 8) & 1) mask[at + i] = 0;
    }
  }
  for (const cell of open) if (cell >= start && cell < end) mask[at + cell - start] = 1;
}
