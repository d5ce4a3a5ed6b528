/**
 * Slabs: the lattice cut along axis 0 into runs of whole rows, one per thread. Row-major order
 * makes each slab a contiguous range of cell indices, so a slab's cells are indexed locally as
 * `global - lo`, and only its first and last rows touch another slab.
 */
import type { Lattice } from '../../shared/lattice/types.ts';

/** One slab: rows `[row0, row1)` of axis 0, i.e. cells `[lo, lo + cells)`. */
export interface Slab {
  readonly index: number;
  readonly row0: number;
  readonly row1: number;
  /** Rows in the slab, `row1 - row0`. */
  readonly rows: number;
  /** Global index of the slab's first cell. */
  readonly lo: number;
  readonly cells: number;
}

/**
 * Cuts a lattice into `count` slabs of as equal a number of rows as possible.
 *
 * @param count - slabs wanted; at most `shape[0]`, since a slab holds at least one row
 */
export function planSlabs(lattice: Pick<Lattice, 'shape' | 'strides'>, count: number): Slab[] {
  const rows = lattice.shape[0]!;
  const rowCells = lattice.strides[0]!;
  if (!Number.isInteger(count) || count < 1 || count > rows) {
    throw new RangeError(`slab count must be an integer in [1, ${rows}], got ${count}`);
  }
  const slabs: Slab[] = [];
  for (let index = 0; index < count; index++) {
    const row0 = Math.floor((index * rows) / count);
    const row1 = Math.floor(((index + 1) * rows) / count);
    slabs.push({ index, row0, row1, rows: row1 - row0, lo: row0 * rowCells, cells: (row1 - row0) * rowCells });
  }
  return slabs;
}

/** The slab holding a global cell index. */
export function slabOf(slabs: readonly Slab[], lattice: Pick<Lattice, 'strides'>, index: number): Slab {
  const row = Math.floor(index / lattice.strides[0]!);
  let lo = 0;
  let hi = slabs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (slabs[mid]!.row0 <= row) lo = mid;
    else hi = mid - 1;
  }
  return slabs[lo]!;
}
