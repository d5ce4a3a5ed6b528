/**
 * The one-thread search's brick layout for large 3-D lattices: cells stored in 8×8×8 bricks
 * (512 cells, one 64-byte line of a bit plane) instead of row by row. A BFS layer from a corner
 * is a diagonal surface; row by row it crosses each 512-cell line of state in one to three
 * cells, so a layer of 10^6 cells touches tens of MB of state, which no longer sits in the caches
 * by the next layer. In bricks the same surface crosses a line in ~40 cells.
 *
 * Coordinates are shifted by one and every axis padded to whole bricks with at least one cell on
 * each side, the padding blocked: a step from a lattice cell always lands inside the bricks, so
 * the expansion needs no boundary test (non-periodic lattices only). Within a brick a cell is
 * `l0·64 + l1·8 + l2`; bricks are numbered row-major like cells.
 */
import { MAX_BRICK_PADDING, bricksAlong } from '../../shared/lattice/brick-padding.ts';
import type { Lattice } from '../../shared/lattice/types.ts';

/** Cells are int32 indices. */
const MAX_CELLS = 2 ** 31 - 64;

export class BrickLayout {
  /** Lattice sides. */
  readonly n0: number;
  readonly n1: number;
  readonly n2: number;
  /** Bricks per axis. */
  readonly b0: number;
  readonly b1: number;
  readonly b2: number;
  /** Cells in one brick row (axis 2), one brick plane (axes 1 and 2): the brick steps. */
  readonly step1: number;
  readonly step0: number;
  /** Cells of the bricks, padding included. */
  readonly cells: number;
  readonly bricks: number;

  private constructor(shape: readonly number[]) {
    [this.n0, this.n1, this.n2] = shape as [number, number, number];
    this.b0 = bricksAlong(this.n0);
    this.b1 = bricksAlong(this.n1);
    this.b2 = bricksAlong(this.n2);
    this.step1 = 512 * this.b2;
    this.step0 = this.step1 * this.b1;
    this.bricks = this.b0 * this.b1 * this.b2;
    this.cells = 512 * this.bricks;
  }

  /**
   * The layout of a 3-D non-periodic lattice, or null when the lattice does not take one (too
   * many cells, or a side so thin that padding would multiply the cells by more than
   * `maxPadding`; tests lift that bound to put small lattices in bricks).
   */
  static of(lattice: Pick<Lattice, 'dimensions' | 'shape' | 'periodic'>, maxPadding = MAX_BRICK_PADDING): BrickLayout | null {
    if (lattice.dimensions !== 3 || lattice.periodic.some((p) => p)) return null;
    const layout = new BrickLayout(lattice.shape);
    const cells = lattice.shape.reduce((product, side) => product * side, 1);
    return layout.cells <= MAX_CELLS && layout.cells <= maxPadding * cells ? layout : null;
  }

  /** Brick index of lattice cell (x0, x1, x2). */
  indexOf(x0: number, x1: number, x2: number): number {
    const p0 = x0 + 1;
    const p1 = x1 + 1;
    const p2 = x2 + 1;
    const brick = ((p0 >>> 3) * this.b1 + (p1 >>> 3)) * this.b2 + (p2 >>> 3);
    return brick * 512 + ((p0 & 7) << 6) + ((p1 & 7) << 3) + (p2 & 7);
  }

  /** Brick index of a row-major lattice index. */
  fromRowMajor(cell: number): number {
    const plane = this.n1 * this.n2;
    const x0 = Math.floor(cell / plane);
    const rest = cell - x0 * plane;
    const x1 = Math.floor(rest / this.n2);
    return this.indexOf(x0, x1, rest - x1 * this.n2);
  }

  /** Lattice coordinates of a brick index (padding cells give -1 or the side). */
  coordsOf(index: number, out: Int32Array): void {
    const brick = Math.floor(index / 512);
    const local = index - brick * 512;
    const q = Math.floor(brick / this.b2);
    const k0 = Math.floor(q / this.b1);
    out[0] = 8 * k0 + (local >>> 6) - 1;
    out[1] = 8 * (q - k0 * this.b1) + ((local >>> 3) & 7) - 1;
    out[2] = 8 * (brick - q * this.b2) + (local & 7) - 1;
  }

  /** Row-major lattice index of a brick index. */
  toRowMajor(index: number, scratch: Int32Array): number {
    this.coordsOf(index, scratch);
    return (scratch[0]! * this.n1 + scratch[1]!) * this.n2 + scratch[2]!;
  }
}
