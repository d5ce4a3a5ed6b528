/**
 * Where each cell of a row (all axes but axis 0) touches the lattice's faces, as a table
 * indexed by the cell's offset in its row: bit 2(a-1) is set when the coordinate on axis a is 0,
 * bit 2(a-1)+1 when it is the last. Kernels then decode a cell with one division (its row)
 * instead of one per axis. The table is one row long: a few bytes per row cell, shared by
 * every row.
 */
import type { Lattice } from '../../shared/lattice/types.ts';

/** A row's face flags; 16 bits hold the flags of up to 8 inner axes (9 dimensions). */
export type RowFlags = Uint16Array | Int32Array;

export function rowFlags(lattice: Pick<Lattice, 'shape' | 'strides' | 'dimensions'>): RowFlags {
  const { shape, dimensions: d } = lattice;
  const rowCells = lattice.strides[0]!;
  const flags = d <= 9 ? new Uint16Array(rowCells) : new Int32Array(rowCells);
  // Odometer over the row's coordinates, last axis fastest, like the cell order.
  const coords = new Array<number>(d).fill(0);
  for (let offset = 0; offset < rowCells; offset++) {
    let value = 0;
    for (let a = 1; a < d; a++) {
      if (coords[a] === 0) value |= 1 << (2 * (a - 1));
      if (coords[a] === shape[a]! - 1) value |= 2 << (2 * (a - 1));
    }
    flags[offset] = value;
    for (let a = d - 1; a >= 1; a--) {
      if (++coords[a]! < shape[a]!) break;
      coords[a] = 0;
    }
  }
  return flags;
}
