/**
 * The neighbours of a cell under a connectivity, as index arithmetic: `axis` moves one step along
 * one axis (2·d neighbours), `full` along any subset of axes at once (3^d − 1, the diagonals
 * included). Boundaries follow the lattice model (docs/architecture.md › The lattice model): an
 * open face ends the axis; a periodic axis wraps (each axis has its own boundary), except on a side of 2 or less, where the wrap
 * would reach a neighbour already listed (or the cell itself). So no cell is listed twice and
 * none is its own neighbour.
 */
import type { Connectivity, Lattice } from '../../shared/lattice/types.ts';

export class NeighbourSteps {
  /** The most neighbours one cell has: the length `fill` needs. */
  readonly max: number;
  private readonly d: number;
  private readonly shape: Float64Array;
  private readonly strides: Float64Array;
  /** Per axis, 1 when a step off a face wraps round (periodic, side above 2). */
  private readonly wrap: Uint8Array;
  private readonly full: boolean;
  /** `full` only: per move and axis, 0 (−1), 1 (stay) or 2 (+1); move 0 is "stay on every axis". */
  private readonly digits: Uint8Array;
  /** Per axis, the index change of a −1 and a +1 step from the current cell (NaN: none). */
  private readonly minus: Float64Array;
  private readonly plus: Float64Array;

  constructor(lattice: Pick<Lattice, 'shape' | 'strides' | 'periodic'>, connectivity: Connectivity) {
    this.d = lattice.shape.length;
    this.shape = Float64Array.from(lattice.shape);
    this.strides = Float64Array.from(lattice.strides);
    this.wrap = wrapsOf(lattice);
    this.full = connectivity === 'full';
    this.minus = new Float64Array(this.d);
    this.plus = new Float64Array(this.d);
    const moves = this.full ? 3 ** this.d : 0;
    this.digits = new Uint8Array(moves * this.d);
    for (let m = 0; m < moves; m++) {
      // Base-3 digit a of m, rotated so that digit 0 means "stay": move 0 stays on every axis.
      let rest = m;
      for (let a = 0; a < this.d; a++) {
        this.digits[m * this.d + a] = (rest % 3 + 1) % 3;
        rest = Math.floor(rest / 3);
      }
    }
    this.max = this.full ? moves - 1 : 2 * this.d;
  }

  /** Writes the neighbours of `cell` into `out` (at least `max` long) and returns how many. */
  fill(cell: number, out: Float64Array): number {
    const { d, shape, strides, wrap, minus, plus } = this;
    let count = 0;
    let rest = cell;
    for (let a = d - 1; a >= 0; a--) {
      const side = shape[a]!;
      const stride = strides[a]!;
      const quotient = Math.floor(rest / side);
      const x = rest - quotient * side;
      rest = quotient;
      const down = x > 0 ? -stride : wrap[a] === 1 ? (side - 1) * stride : NaN;
      const up = x < side - 1 ? stride : wrap[a] === 1 ? -(side - 1) * stride : NaN;
      if (this.full) {
        minus[a] = down;
        plus[a] = up;
      } else {
        if (down === down) out[count++] = cell + down;
        if (up === up) out[count++] = cell + up;
      }
    }
    if (!this.full) return count;
    const { digits } = this;
    const moves = digits.length / d;
    // Move 0 is "stay on every axis": the cell itself.
    for (let m = 1; m < moves; m++) {
      let at = cell;
      const base = m * d;
      for (let a = 0; a < d; a++) {
        const digit = digits[base + a]!;
        if (digit === 1) continue;
        const step = digit === 0 ? minus[a]! : plus[a]!;
        if (step !== step) {
          at = NaN;
          break;
        }
        at += step;
      }
      if (at === at) out[count++] = at;
    }
    return count;
  }
}

/**
 * Integer tables for inlined axis steps on lattices of fewer than 2^31 cells, where indices are
 * small integers and `| 0` divides exactly: the hot loops of the one-thread kernels step with
 * these instead of calling {@link NeighbourSteps.fill} (the same neighbours, in the same order).
 */
export interface AxisTables {
  readonly d: number;
  readonly shape: Int32Array;
  readonly strides: Int32Array;
  /** Per axis, 1 when a step off a face wraps round (periodic, side above 2). */
  readonly wrap: Uint8Array;
}

/** {@link AxisTables} of a lattice, or null when its cells reach 2^31. */
export function axisTables(lattice: Pick<Lattice, 'shape' | 'strides' | 'periodic' | 'cells'>): AxisTables | null {
  if (lattice.cells >= 2 ** 31) return null;
  return {
    d: lattice.shape.length,
    shape: Int32Array.from(lattice.shape),
    strides: Int32Array.from(lattice.strides),
    wrap: wrapsOf(lattice),
  };
}

/** Per axis, 1 when a step off a face wraps round: a periodic axis of side above 2. */
export function wrapsOf(lattice: Pick<Lattice, 'shape' | 'periodic'>): Uint8Array {
  return Uint8Array.from(lattice.shape, (side, a) => (lattice.periodic[a] === true && side > 2 ? 1 : 0));
}

/**
 * {@link NeighbourSteps} for lattices of fewer than 2^31 cells, into an Int32Array: a cell off
 * every face (the vast majority) takes its neighbours from one precomputed list of index offsets;
 * only cells on a face take the general path.
 */
export class InteriorSteps {
  readonly max: number;
  readonly d: number;
  readonly shape: Int32Array;
  /** Index offsets of the neighbours of a cell on no face; loops may inline {@link InteriorSteps.fill} with them. */
  readonly offsets: Int32Array;
  private readonly general: NeighbourSteps;
  private readonly scratch: Float64Array;

  constructor(lattice: Pick<Lattice, 'shape' | 'strides' | 'periodic' | 'cells'>, connectivity: Connectivity) {
    if (lattice.cells >= 2 ** 31) throw new RangeError('InteriorSteps needs fewer than 2^31 cells');
    this.general = new NeighbourSteps(lattice, connectivity);
    this.max = this.general.max;
    this.d = lattice.shape.length;
    this.shape = Int32Array.from(lattice.shape);
    this.scratch = new Float64Array(this.max);
    // The index offsets of a cell's neighbours when it is on no face: every move but "stay".
    const offsets: number[] = [];
    if (connectivity === 'axis') {
      for (let a = this.d - 1; a >= 0; a--) offsets.push(-lattice.strides[a]!, lattice.strides[a]!);
    } else {
      for (let m = 1; m < 3 ** this.d; m++) {
        let rest = m;
        let offset = 0;
        for (let a = 0; a < this.d; a++) {
          const digit = ((rest % 3) + 1) % 3;
          rest = Math.floor(rest / 3);
          offset += (digit - 1) * lattice.strides[a]!;
        }
        offsets.push(offset);
      }
    }
    this.offsets = Int32Array.from(offsets);
  }

  /** Writes the neighbours of `cell` into `out` (at least `max` long) and returns how many. */
  fill(cell: number, out: Int32Array): number {
    const { d, shape } = this;
    let rest = cell;
    let inside = true;
    for (let a = d - 1; a >= 0; a--) {
      const side = shape[a]!;
      const quotient = (rest / side) | 0;
      const x = rest - quotient * side;
      rest = quotient;
      if (x === 0 || x === side - 1) {
        inside = false;
        break;
      }
    }
    if (inside) {
      const { offsets } = this;
      for (let j = 0; j < offsets.length; j++) out[j] = cell + offsets[j]!;
      return offsets.length;
    }
    const count = this.general.fill(cell, this.scratch);
    for (let j = 0; j < count; j++) out[j] = this.scratch[j]!;
    return count;
  }
}
