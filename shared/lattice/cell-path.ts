/**
 * A path as its cells' row-major indices (4 bytes a cell), from the kernel to the result writer.
 * Its coordinates are written only where they are read: straight into the result's JSON text
 * ({@link CellPath.json}, what `JSON.stringify` writes for the coordinate lists) and into the
 * `path` artefact's uint32 rows ({@link CellPath.coordinateRows}), never as one JavaScript array
 * per cell (about 100 bytes each, where the JSON text takes about 10). See docs/architecture.md ›
 * Worker memory.
 */

export class CellPath {
  /**
   * Set only while shared/jobs/result-json.ts's `stringifyWithPaths` runs (JSON.stringify is
   * synchronous): takes each path JSON.stringify meets and answers the mark written in its place,
   * so that the value is stringified without a replacer function (one call into JavaScript per
   * path instead of one per key).
   */
  static writing: ((path: CellPath) => string) | undefined;

  /**
   * @param cells - the path's cells, start to end (row-major indices of `shape`)
   * @param shape - the lattice's sides
   */
  constructor(
    readonly cells: Uint32Array,
    readonly shape: readonly number[],
  ) {}

  /** What JSON.stringify writes for the path: its coordinate lists (a mark inside `stringifyWithPaths`). */
  toJSON(): unknown {
    return CellPath.writing ? CellPath.writing(this) : this.coordinates();
  }

  /** Cells on the path (the path's length plus one; 0 for none). */
  get length(): number {
    return this.cells.length;
  }

  /** The coordinates as arrays, one per cell: what results held before (tests, small paths). */
  coordinates(): number[][] {
    const d = this.shape.length;
    const rows = this.coordinateRows();
    const out = new Array<number[]>(this.cells.length);
    for (let k = 0; k < out.length; k++) out[k] = Array.from(rows.subarray(k * d, (k + 1) * d));
    return out;
  }

  /** The coordinates as one uint32 array of `length` rows of `dimensions` (the `path` artefact). */
  coordinateRows(): Uint32Array {
    const { cells, shape } = this;
    const d = shape.length;
    const rows = new Uint32Array(cells.length * d);
    for (let k = 0; k < cells.length; k++) {
      let rest = cells[k]!;
      for (let a = d - 1; a >= 0; a--) {
        const side = shape[a]!;
        const quotient = Math.floor(rest / side);
        rows[k * d + a] = rest - quotient * side;
        rest = quotient;
      }
    }
    return rows;
  }

  /**
   * The coordinate lists as JSON text, exactly as `JSON.stringify(this.coordinates())` writes
   * them (`[[0,1],[0,2]]`), written digit by digit into one buffer: no array per cell.
   */
  json(): string {
    const { cells, shape } = this;
    if (cells.length === 0) return '[]';
    const d = shape.length;
    // Per cell: its digits, d − 1 commas, two brackets and the comma after it.
    let width = d + 2;
    for (const side of shape) width += String(Math.max(0, side - 1)).length;
    const out = Buffer.allocUnsafe(2 + cells.length * width);
    const digits = new Uint8Array(16);
    const coords = new Float64Array(d);
    let at = 0;
    out[at++] = 0x5b; // [
    for (let k = 0; k < cells.length; k++) {
      let rest = cells[k]!;
      for (let a = d - 1; a >= 0; a--) {
        const side = shape[a]!;
        const quotient = Math.floor(rest / side);
        coords[a] = rest - quotient * side;
        rest = quotient;
      }
      if (k > 0) out[at++] = 0x2c; // ,
      out[at++] = 0x5b;
      for (let a = 0; a < d; a++) {
        if (a > 0) out[at++] = 0x2c;
        let value = coords[a]!;
        let n = 0;
        do {
          const tenth = Math.floor(value / 10);
          digits[n++] = 0x30 + value - tenth * 10;
          value = tenth;
        } while (value > 0);
        while (n > 0) out[at++] = digits[--n]!;
      }
      out[at++] = 0x5d; // ]
    }
    out[at++] = 0x5d;
    return out.toString('latin1', 0, at);
  }
}

/** Whether a value is a {@link CellPath}. */
export function isCellPath(value: unknown): value is CellPath {
  return value instanceof CellPath;
}
