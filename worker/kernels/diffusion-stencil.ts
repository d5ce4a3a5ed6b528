/**
 * One explicit diffusion step over a slab's rows, fused: per cell one code byte, its own value
 * and its existing neighbours' values (blocked ones hold 0), no mask look-ups (see
 * conductance-codes.ts). A row is walked line by line along the last axis; on one line the
 * neighbour lines (middle axes, and the rows either side, possibly in a neighbour slab's field)
 * are fixed, so the inner loop is a straight sum over a few arrays.
 */
import type { Slab } from './slabs.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import type { StencilWeights } from './conductance-codes.ts';

/** What a slab's steps read and write. */
export interface StencilSlab {
  lattice: Lattice;
  slabs: readonly Slab[];
  me: number;
  codes: Uint8Array;
  weights: StencilWeights;
  /** Called before each row; may throw to stop. */
  tick: (row: number) => void;
}

/** Neighbour lines of one line: their arrays and where the line starts in each. */
class NeighbourLines {
  readonly fields: Float32Array[] = [];
  readonly bases: Float64Array;
  count = 0;

  constructor(capacity: number) {
    this.bases = new Float64Array(capacity);
  }

  push(field: Float32Array, base: number): void {
    this.fields[this.count] = field;
    this.bases[this.count++] = base;
  }
}

/** Computes `next` (this slab's) from `current` (every slab's, for the rows either side). */
export function stepSlab(job: StencilSlab, current: readonly Float32Array[], next: Float32Array, scratch: Float64Array): void {
  const { lattice, slabs, me, codes, weights, tick } = job;
  const own = slabs[me]!;
  const slabCount = slabs.length;
  const { shape, strides } = lattice;
  const d = shape.length;
  const rowCells = strides[0]!;
  const side0 = shape[0]!;
  const u = current[me]!;
  const lineCells = d > 1 ? shape[d - 1]! : 1;
  // Each axis wraps by its own boundary; the line is the last axis.
  const wrapLine = lattice.periodic[d - 1] === true && lineCells > 2;
  const coords = new Float64Array(d);
  const lines = new NeighbourLines(2 * d);
  const self = weights.self;
  const nb = weights.neighbours;
  const below = (me - 1 + slabCount) % slabCount;
  const above = (me + 1) % slabCount;
  const cyclic0 = lattice.periodic[0] === true && side0 > 2;

  for (let r = 0; r < own.rows; r++) {
    tick(r);
    const row = own.row0 + r;
    let downField: Float32Array | null = null;
    let downBase = 0;
    if (r > 0) {
      downField = u;
      downBase = (r - 1) * rowCells;
    } else if (row > 0 || cyclic0) {
      downField = current[below]!;
      downBase = (slabs[below]!.rows - 1) * rowCells;
    }
    let upField: Float32Array | null = null;
    let upBase = 0;
    if (r < own.rows - 1) {
      upField = u;
      upBase = (r + 1) * rowCells;
    } else if (row < side0 - 1 || cyclic0) {
      upField = current[above]!;
      upBase = 0;
    }
    const rowStart = r * rowCells;
    coords.fill(0);
    for (let at = 0; at < rowCells; at += lineCells) {
      const c0 = rowStart + at;
      lines.count = 0;
      for (let a = 1; a < d - 1; a++) {
        const side = shape[a]!;
        const stride = strides[a]!;
        const y = coords[a]!;
        const cyclic = lattice.periodic[a] === true && side > 2;
        if (y > 0) lines.push(u, c0 - stride);
        else if (cyclic) lines.push(u, c0 + (side - 1) * stride);
        if (y < side - 1) lines.push(u, c0 + stride);
        else if (cyclic) lines.push(u, c0 - (side - 1) * stride);
      }
      if (downField !== null) lines.push(downField, downBase + at);
      if (upField !== null) lines.push(upField, upBase + at);
      stepLine(u, next, codes, c0, lineCells, wrapLine, lines, self, nb, scratch);
      for (let a = d - 2; a >= 1; a--) {
        if (++coords[a]! < shape[a]!) break;
        coords[a] = 0;
      }
    }
  }
}

/**
 * One line: the interior with specialised loops for 2 and 4 neighbour lines in this slab's own
 * field (all lines but a slab's first and last rows), then the two ends.
 */
function stepLine(
  u: Float32Array,
  out: Float32Array,
  codes: Uint8Array,
  c0: number,
  n: number,
  wrapLine: boolean,
  lines: NeighbourLines,
  self: Float64Array,
  nb: Float64Array,
  scratch: Float64Array,
): void {
  const count = lines.count;
  const fields = lines.fields;
  const bases = lines.bases;
  let own = true;
  for (let k = 0; k < count; k++) if (fields[k] !== u) own = false;
  if (n > 2) {
    if (own && count === 4) {
      ownLines4(u, out, codes, self, nb, c0, n, (bases[0]! - c0) | 0, (bases[1]! - c0) | 0, (bases[2]! - c0) | 0, (bases[3]! - c0) | 0);
    } else if (own && count === 2) {
      ownLines2(u, out, codes, self, nb, c0, n, (bases[0]! - c0) | 0, (bases[1]! - c0) | 0);
    } else {
      // Any other number of neighbour lines: sum them into the scratch line first.
      scratch.fill(0, 0, n);
      for (let k = 0; k < count; k++) {
        const f = fields[k]!;
        const b = bases[k]!;
        for (let x = 1; x < n - 1; x++) scratch[x]! += f[b + x]!;
      }
      for (let x = 1; x < n - 1; x++) {
        const c = c0 + x;
        const code = codes[c]!;
        out[c] = self[code]! * u[c]! + nb[code]! * (u[c - 1]! + u[c + 1]! + scratch[x]!);
      }
    }
  }
  // The ends of the line (or its only cells): neighbours along the line by hand.
  for (let x = 0; x < n; x += x === 0 && n > 1 ? n - 1 : n) {
    const c = c0 + x;
    let sum = 0;
    for (let k = 0; k < count; k++) sum += fields[k]![bases[k]! + x]!;
    if (x > 0) sum += u[c - 1]!;
    else if (wrapLine) sum += u[c + n - 1]!;
    if (x < n - 1) sum += u[c + 1]!;
    else if (wrapLine) sum += u[c - n + 1]!;
    const code = codes[c]!;
    out[c] = self[code]! * u[c]! + nb[code]! * sum;
  }
}

/** The interior of a line whose 4 neighbour lines are in its own field, `b_k` cells away. */
function ownLines4(
  u: Float32Array,
  out: Float32Array,
  codes: Uint8Array,
  self: Float64Array,
  nb: Float64Array,
  c0: number,
  n: number,
  b0: number,
  b1: number,
  b2: number,
  b3: number,
): void {
  const end = c0 + n - 1;
  let left = u[c0]!;
  let here = u[c0 + 1]!;
  for (let c = c0 + 1; c < end; c++) {
    const right = u[c + 1]!;
    const code = codes[c]!;
    out[c] = self[code]! * here + nb[code]! * (left + right + u[b0 + c]! + u[b1 + c]! + u[b2 + c]! + u[b3 + c]!);
    left = here;
    here = right;
  }
}

/** The interior of a line whose 2 neighbour lines are in its own field. */
function ownLines2(u: Float32Array, out: Float32Array, codes: Uint8Array, self: Float64Array, nb: Float64Array, c0: number, n: number, b0: number, b1: number): void {
  const end = c0 + n - 1;
  let left = u[c0]!;
  let here = u[c0 + 1]!;
  for (let c = c0 + 1; c < end; c++) {
    const right = u[c + 1]!;
    const code = codes[c]!;
    out[c] = self[code]! * here + nb[code]! * (left + right + u[b0 + c]! + u[b1 + c]!);
    left = here;
    here = right;
  }
}
