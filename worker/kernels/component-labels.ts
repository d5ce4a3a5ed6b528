/**
 * The label of every cell, for the `components` artefact: a separate pass over the lattice (the
 * components kernel counts clusters without keeping per-cell labels). Cells are read a row of
 * axis 0 at a time through the kernels' own openness fill (open-mask.ts). In WebAssembly
 * (cell-labelling-wasm.ts) union-find joins runs of open cells; here, the fallback, union-find over
 * cell indices joins each open cell with its open neighbour one step back along every axis (and
 * across the seam of a periodic lattice). Then a second pass numbers the clusters 1, 2, … in the
 * order of their first cell (row-major), as `scipy.ndimage.label` does; blocked cells are 0.
 *
 * Memory: one uint32 per cell, plus 12 bytes per run in WebAssembly (here: the parent array
 * becomes the label array in place, plus one row).
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import { cellLabellingWasmFits, labelCellsWasm } from './cell-labelling-wasm.ts';
import { fillOpenBytes } from './open-mask.ts';
import { union } from './cell-union-find.ts';

/** Marks a blocked cell in the parent array (a cell index only on a lattice of exactly 2^32 cells, whose last cell is then taken as blocked). */
const BLOCKED = 0xffffffff;

export interface ComponentLabels {
  /** uint32 per cell, row-major: 0 blocked, else the cluster's label 1…count. */
  labels: Uint32Array;
  /** `sizes[l - 1]` is the number of cells labelled l. */
  sizes: Uint32Array;
}

/**
 * Labels every cell of `lattice` (von Neumann neighbours, the lattice's boundary): by runs in
 * WebAssembly (cell-labelling-wasm.ts) when its memory fits, else cell by cell here.
 *
 * @param open - cells open whatever the obstacles say (none for the components kernel)
 * @param tick - called before each row of axis 0 with the rows done; may throw to stop
 */
export function labelComponents(lattice: Lattice, tick: (rowsDone: number) => void = () => undefined, open: readonly number[] = []): ComponentLabels {
  return cellLabellingWasmFits(lattice) ? labelCellsWasm(lattice, tick, open) : labelComponentsByCell(lattice, tick, open);
}

/** {@link labelComponents} cell by cell in JavaScript: union-find over cell indices. */
export function labelComponentsByCell(lattice: Lattice, tick: (rowsDone: number) => void = () => undefined, open: readonly number[] = []): ComponentLabels {
  const { shape, strides, cells } = lattice;
  const parent = new Uint32Array(cells);
  const rowCells = strides[0]!;
  const mask = new Uint8Array(rowCells);
  for (let row = 0; row < shape[0]!; row++) {
    tick(row);
    const lo = row * rowCells;
    fillOpenBytes(mask, 0, lo, rowCells, lattice.obstacles, open);
    for (let k = 0; k < rowCells; k++) parent[lo + k] = mask[k] === 1 ? lo + k : BLOCKED;
    for (let k = 0; k < rowCells; k++) {
      const cell = lo + k;
      if (parent[cell] === BLOCKED) continue;
      for (let axis = 0; axis < shape.length; axis++) {
        const stride = strides[axis]!;
        const side = shape[axis]!;
        const coord = Math.floor(cell / stride) % side;
        if (coord > 0) {
          const back = cell - stride;
          if (parent[back] !== BLOCKED) union(parent, cell, back);
        }
        // The seam: the last cell along the axis meets the first (its row is already read).
        if (lattice.periodic[axis] === true && coord === side - 1 && side > 1) {
          const wrapped = cell - (side - 1) * stride;
          if (parent[wrapped] !== BLOCKED) union(parent, cell, wrapped);
        }
      }
    }
  }
  // Roots are the smallest cell of their cluster, so numbering roots in index order numbers
  // clusters by first cell; a root is met before any cell of its cluster.
  const sizes: number[] = [];
  for (let cell = 0; cell < cells; cell++) {
    const p = parent[cell]!;
    if (p === BLOCKED) {
      parent[cell] = 0;
    } else if (p === cell) {
      sizes.push(1);
      parent[cell] = sizes.length;
    } else {
      // Parents point at smaller indices of the same cluster, already replaced by its label.
      const label = parent[p]!;
      parent[cell] = label;
      sizes[label - 1]!++;
    }
  }
  return { labels: parent, sizes: Uint32Array.from(sizes) };
}
