/**
 * Neighbours by class: which faces a cell is on decides the index offsets of its neighbours, the
 * same for every cell of that class (an open face drops the steps off it, a periodic axis wraps
 * them round). A byte per cell holds its class, two bits per axis (1: low face, 2: high face,
 * 3: both, on a side of 1), so a cell's neighbours are its index plus one row of a small table:
 * no division, no coordinate. The rows list the neighbours {@link NeighbourSteps} lists, with the
 * same rules (no wrap on a side of 2 or less), for up to {@link MAX_CLASS_DIMENSIONS} axes.
 */
import type { Connectivity, Lattice } from '../../shared/lattice/types.ts';
import { wrapsOf } from './neighbour-steps.ts';

/** Most axes a class byte describes (two bits each). */
export const MAX_CLASS_DIMENSIONS = 4;

/**
 * The rows of every class: row k is `[count, offset, move, offset, move…]`, `stride` ints apart,
 * where `move` indexes {@link ClassTable.moves} (a path walked back undoes it).
 */
export interface ClassTable {
  /** Ints per row: 1 + 2 × the most neighbours a cell has. */
  readonly stride: number;
  readonly rows: Int32Array;
  /** Each move's step along each axis: −1, 0 or +1. */
  readonly moves: readonly (readonly number[])[];
}

/** Adds each cell's class to `classes` (zeroed, a byte per cell). */
export function fillCellClasses(lattice: Pick<Lattice, 'shape' | 'strides' | 'cells'>, classes: Uint8Array): void {
  const { shape, strides, cells } = lattice;
  for (let a = 0; a < shape.length; a++) {
    const side = shape[a]!;
    const stride = strides[a]!;
    const block = side * stride;
    const low = 1 << (2 * a);
    const high = 2 << (2 * a);
    const last = (side - 1) * stride;
    for (let outer = 0; outer < cells; outer += block) {
      for (let inner = outer; inner < outer + stride; inner++) {
        classes[inner]! |= low;
        classes[inner + last]! |= high;
      }
    }
  }
}

/** The offset table of a lattice of at most {@link MAX_CLASS_DIMENSIONS} axes under a connectivity. */
export function classTable(lattice: Pick<Lattice, 'shape' | 'strides' | 'periodic'>, connectivity: Connectivity): ClassTable {
  const d = lattice.shape.length;
  if (d > MAX_CLASS_DIMENSIONS) throw new RangeError(`class tables describe at most ${MAX_CLASS_DIMENSIONS} axes`);
  const wrap = wrapsOf(lattice);
  // Moves as one digit per axis, −1, 0 or +1; "stay" on every axis is not a move.
  const moves: number[][] = [];
  if (connectivity === 'axis') {
    for (let a = d - 1; a >= 0; a--) {
      for (const step of [-1, 1]) moves.push(Array.from({ length: d }, (_, b) => (b === a ? step : 0)));
    }
  } else {
    for (let m = 1; m < 3 ** d; m++) {
      let rest = m;
      moves.push(
        Array.from({ length: d }, () => {
          const digit = ((rest % 3) + 1) % 3;
          rest = Math.floor(rest / 3);
          return digit - 1;
        }),
      );
    }
  }
  const stride = 1 + 2 * moves.length;
  const classes = 4 ** d;
  const rows = new Int32Array(classes * stride);
  for (let k = 0; k < classes; k++) {
    let count = 0;
    for (let m = 0; m < moves.length; m++) {
      const move = moves[m]!;
      let offset = 0;
      let valid = true;
      for (let a = 0; a < d && valid; a++) {
        const step = move[a]!;
        if (step === 0) continue;
        const faces = (k >> (2 * a)) & 3;
        const side = lattice.shape[a]!;
        const axisStride = lattice.strides[a]!;
        const onFace = step < 0 ? (faces & 1) !== 0 : (faces & 2) !== 0;
        if (!onFace) offset += step * axisStride;
        else if (wrap[a] === 1) offset -= step * (side - 1) * axisStride;
        else valid = false;
      }
      if (!valid) continue;
      rows[k * stride + 1 + 2 * count] = offset;
      rows[k * stride + 2 + 2 * count] = m;
      count++;
    }
    rows[k * stride] = count;
  }
  return { stride, rows, moves };
}
