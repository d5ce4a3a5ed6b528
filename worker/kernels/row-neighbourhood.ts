/**
 * The cells of one row of axis 0 around a cell of the row under the `full` connectivity: every
 * cell whose coordinates on axes 1..d−1 differ by at most one (across a periodic axis's seam),
 * the cell itself included (a cell may come twice where a seam folds: harmless to a union). The components merge joins a face cell of one slab with
 * these cells of the next slab's face (components.ts).
 */
import type { Lattice } from '../../shared/lattice/types.ts';

export class RowNeighbourhood {
  /** The last `fill`'s cells (offsets in the row), `count` of them. */
  readonly cells: Int32Array;
  private readonly shape: number[];
  private readonly strides: number[];
  private readonly wrap: boolean;
  private readonly coords: Int32Array;

  constructor(lattice: Pick<Lattice, 'shape' | 'strides' | 'boundary'>) {
    this.shape = lattice.shape.slice(1);
    this.strides = lattice.strides.slice(1);
    this.wrap = lattice.boundary === 'periodic';
    this.cells = new Int32Array(3 ** this.shape.length);
    this.coords = new Int32Array(this.shape.length);
  }

  /** Fills `cells` with the row cells around row cell `offset`; returns their count. */
  fill(offset: number): number {
    const { shape, strides, coords, cells } = this;
    const axes = shape.length;
    for (let k = 0, rest = offset; k < axes; k++) {
      coords[k] = Math.floor(rest / strides[k]!);
      rest -= coords[k]! * strides[k]!;
    }
    let count = 0;
    for (let o = 0; o < cells.length; o++) {
      let cell = 0;
      let rest = o;
      for (let k = axes - 1; k >= 0 && cell >= 0; k--) {
        const side = shape[k]!;
        let x = coords[k]! + (rest % 3) - 1;
        rest = Math.floor(rest / 3);
        if (x < 0 || x >= side) {
          if (!this.wrap) {
            cell = -1;
            break;
          }
          x = (x + side) % side;
        }
        cell += x * strides[k]!;
      }
      if (cell >= 0) cells[count++] = cell;
    }
    return count;
  }
}
