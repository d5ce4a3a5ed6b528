/**
 * Per-cell codes for the diffusion stencil, a byte each: the number of open neighbours of an
 * open cell (at most 2·d ≤ 20), or BLOCKED plus that number for a blocked cell. With them a step
 * needs no neighbour masks at all: blocked cells hold 0, so the sum over every existing
 * neighbour is the sum over the open ones, and
 *
 *   u'[i] = (1 - alpha·n_i) · v[i] + alpha · Σ v[j]     (open i; 0 for blocked i)
 *
 * is the engine's step v[i] + alpha · Σ (v[j] - v[i]) over open j, rearranged.
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import type { Slab } from './slabs.ts';
import { fillOpenBytes } from './open-mask.ts';

/** The code bit of a blocked cell; its low bits still count neighbours, and are ignored. */
export const BLOCKED = 128;

/** Multipliers of a cell's own value and of its neighbour sum, by code. */
export interface StencilWeights {
  self: Float64Array;
  neighbours: Float64Array;
}

export function stencilWeights(alpha: number): StencilWeights {
  const self = new Float64Array(256);
  const neighbours = new Float64Array(256);
  for (let n = 0; n < BLOCKED; n++) {
    self[n] = 1 - alpha * n;
    neighbours[n] = alpha;
  }
  return { self, neighbours };
}

/**
 * The codes of a slab's cells (local indices), from its rows and the rows either side of it.
 *
 * @param open - global cells open whatever the obstacles say (the job's sources)
 * @param tick - called before each row with the rows done; may throw to stop
 */
export function conductanceCodes(lattice: Lattice, slab: Slab, open: readonly number[], tick: (rows: number) => void): { codes: Uint8Array; bytes: number } {
  const { shape, strides } = lattice;
  const d = shape.length;
  const rowCells = strides[0]!;
  const codes = new Uint8Array(slab.cells);
  const mask = new Uint8Array(codesMaskBytes(lattice, slab));
  fillCodesMask(lattice, slab, open, mask);
  const lineCells = d > 1 ? shape[d - 1]! : 1;
  // Each axis wraps by its own boundary; the line is the last axis (on one axis, lines are single cells).
  const wrapLine = lattice.periodic[d - 1] === true && lineCells > 2;
  const coords = new Float64Array(d);
  for (let r = 0; r < slab.rows; r++) {
    tick(r);
    const m0 = (r + 1) * rowCells;
    const c0 = r * rowCells;
    coords.fill(0);
    for (let at = 0; at < rowCells; at += lineCells) {
      // The line's neighbours along the middle axes and axis 0: offsets into the mask.
      for (let x = 0; x < lineCells; x++) {
        const m = m0 + at + x;
        let n = 0;
        if (x > 0) n += mask[m - 1]!;
        else if (wrapLine) n += mask[m + lineCells - 1]!;
        if (x < lineCells - 1) n += mask[m + 1]!;
        else if (wrapLine) n += mask[m - lineCells + 1]!;
        n += mask[m - rowCells]! + mask[m + rowCells]!;
        codes[c0 + at + x] = n;
      }
      for (let a = 1; a < d - 1; a++) {
        const side = shape[a]!;
        const stride = strides[a]!;
        const y = coords[a]!;
        const cyclic = lattice.periodic[a] === true && side > 2;
        // A missing neighbour line adds nothing: a whole pass per existing one.
        if (y > 0 || cyclic) addLine(codes, c0 + at, mask, m0 + at + (y > 0 ? -stride : (side - 1) * stride), lineCells);
        if (y < side - 1 || cyclic) addLine(codes, c0 + at, mask, m0 + at + (y < side - 1 ? stride : -(side - 1) * stride), lineCells);
      }
      // Without a branch: obstacles are random, a test per cell would mispredict.
      for (let x = 0; x < lineCells; x++) codes[c0 + at + x]! |= (mask[m0 + at + x]! ^ 1) * BLOCKED;
      for (let a = d - 2; a >= 1; a--) {
        if (++coords[a]! < shape[a]!) break;
        coords[a] = 0;
      }
    }
  }
  return { codes, bytes: codes.byteLength + mask.byteLength };
}

/**
 * The openness (1 open, 0 blocked) of a slab's rows, with one row before and one after: the
 * neighbour rows, wrapped on a periodic axis 0, or left 0 where no such row exists (`mask`
 * arrives zeroed).
 */
export function fillCodesMask(lattice: Lattice, slab: Slab, open: readonly number[], mask: Uint8Array): void {
  const rowCells = lattice.strides[0]!;
  const side0 = lattice.shape[0]!;
  const wrap = lattice.periodic[0] === true;
  const fillRow = (row: number, at: number): void => {
    if (row < 0 || row >= side0) {
      if (!wrap || side0 <= 2) return;
      row = (row + side0) % side0;
    }
    fillOpenBytes(mask, at, row * rowCells, rowCells, lattice.obstacles, open);
  };
  fillRow(slab.row0 - 1, 0);
  fillOpenBytes(mask, rowCells, slab.lo, slab.cells, lattice.obstacles, open);
  fillRow(slab.row1, (slab.rows + 1) * rowCells);
}

/** Bytes of the open mask {@link conductanceCodes} works with: the slab's rows and one either side. */
export function codesMaskBytes(lattice: Lattice, slab: Slab): number {
  return (slab.rows + 2) * lattice.strides[0]!;
}

function addLine(codes: Uint8Array, at: number, mask: Uint8Array, from: number, count: number): void {
  for (let x = 0; x < count; x++) codes[at + x]! += mask[from + x]!;
}
