/**
 * Labels the open cells of one slab of rows (axis 0) on their own, for the streamed component
 * labels (worker/component-label-stream.ts): union-find over the slab's cells, each open cell
 * joined with its open neighbour one step back along every axis, and across the periodic seam of
 * every axis but 0 (a row of axis 0 is all in the slab); the axis-0 joins between slabs, and its
 * seam, are the caller's. Local labels are 1, 2, … in the order of their first cell (row-major),
 * blocked cells 0, so a caller walking slabs in order numbers clusters as `scipy.ndimage.label`.
 *
 * Memory: the caller's buffers only (the parent array becomes the label array in place) and one row.
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import { fillOpenBytes } from './open-mask.ts';
import { union } from './cell-union-find.ts';

/** Marks a blocked cell in the parent array (slabs have fewer than 2^32 cells). */
const BLOCKED = 0xffffffff;

/**
 * Labels rows `[rowFrom, rowTo)` of `lattice` into `labels` (one uint32 per slab cell) and the
 * size of each local label into `sizes` (`sizes[l - 1]`); returns the number of local labels.
 *
 * @param open - cells open whatever the obstacles say
 * @param tick - called before each row; may throw to stop (cancellation)
 */
export function labelSlab(
  lattice: Lattice,
  rowFrom: number,
  rowTo: number,
  labels: Uint32Array,
  sizes: Uint32Array,
  tick: () => void = () => undefined,
  open: readonly number[] = [],
): number {
  const { shape, strides } = lattice;
  const periodic = lattice.boundary === 'periodic';
  const rowCells = strides[0]!;
  const base = rowFrom * rowCells;
  const cells = (rowTo - rowFrom) * rowCells;
  if (labels.length < cells || sizes.length < cells) throw new RangeError(`slab buffers hold ${Math.min(labels.length, sizes.length)} cells, the slab has ${cells}`);
  const parent = labels;
  const mask = new Uint8Array(rowCells);
  for (let row = rowFrom; row < rowTo; row++) {
    tick();
    const lo = (row - rowFrom) * rowCells;
    fillOpenBytes(mask, 0, row * rowCells, rowCells, lattice.obstacles, open);
    for (let k = 0; k < rowCells; k++) parent[lo + k] = mask[k] === 1 ? lo + k : BLOCKED;
    for (let k = 0; k < rowCells; k++) {
      const cell = lo + k;
      if (parent[cell] === BLOCKED) continue;
      // Axis 0: one row back, inside the slab only.
      if (row > rowFrom && parent[cell - rowCells] !== BLOCKED) union(parent, cell, cell - rowCells);
      for (let axis = 1; axis < shape.length; axis++) {
        const stride = strides[axis]!;
        const side = shape[axis]!;
        const coord = Math.floor((base + cell) / stride) % side;
        if (coord > 0) {
          const back = cell - stride;
          if (parent[back] !== BLOCKED) union(parent, cell, back);
        }
        // The seam: the last cell along the axis meets the first (earlier in the same row).
        if (periodic && coord === side - 1 && side > 1) {
          const wrapped = cell - (side - 1) * stride;
          if (parent[wrapped] !== BLOCKED) union(parent, cell, wrapped);
        }
      }
    }
  }
  // Roots are the first cell of their cluster, so numbering roots in index order numbers clusters
  // by first cell; a root is met before any other cell of its cluster.
  let count = 0;
  for (let cell = 0; cell < cells; cell++) {
    const p = parent[cell]!;
    if (p === BLOCKED) {
      parent[cell] = 0;
    } else if (p === cell) {
      sizes[count] = 1;
      parent[cell] = ++count;
    } else {
      // Parents point at smaller cells of the same cluster, already replaced by its label.
      const label = parent[p]!;
      parent[cell] = label;
      sizes[label - 1]!++;
    }
  }
  return count;
}
