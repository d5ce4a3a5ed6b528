/**
 * Index arithmetic on a lattice: row-major strides, coordinates, neighbours and obstacle look-ups.
 * These are the plain, general versions; kernels inline faster special cases of the same rules.
 */
import { isProcedurallyBlocked } from './lowbias32.ts';
import type { Lattice, ObstacleRule } from './types.ts';

/** Row-major strides of a shape: the last axis varies fastest. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    strides[a] = stride;
    stride *= shape[a]!;
  }
  return strides;
}

/** The row-major index of a cell. The caller guarantees the coordinates are inside the shape. */
export function indexOf(lattice: Pick<Lattice, 'strides'>, coords: readonly number[]): number {
  let index = 0;
  for (let a = 0; a < coords.length; a++) index += coords[a]! * lattice.strides[a]!;
  return index;
}

/** The coordinates of a cell index. */
export function coordsOf(lattice: Pick<Lattice, 'shape'>, index: number): number[] {
  const { shape } = lattice;
  const coords = new Array<number>(shape.length);
  let rest = index;
  for (let a = shape.length - 1; a >= 0; a--) {
    const side = shape[a]!;
    const quotient = Math.floor(rest / side);
    coords[a] = rest - quotient * side;
    rest = quotient;
  }
  return coords;
}

/**
 * The distinct neighbours of a cell (von Neumann, 2d at most), blocked or not. On a periodic
 * axis of side 2 the two moves reach the same cell, which is listed once; an axis of side 1
 * adds none.
 */
export function neighboursOf(lattice: Pick<Lattice, 'shape' | 'strides' | 'periodic'>, index: number): number[] {
  const { shape, strides } = lattice;
  const out: number[] = [];
  let rest = index;
  for (let a = shape.length - 1; a >= 0; a--) {
    const side = shape[a]!;
    const stride = strides[a]!;
    const quotient = Math.floor(rest / side);
    const x = rest - quotient * side;
    rest = quotient;
    const wraps = lattice.periodic[a] === true && side > 2;
    if (x > 0) out.push(index - stride);
    else if (wraps) out.push(index + (side - 1) * stride);
    if (x < side - 1) out.push(index + stride);
    else if (wraps) out.push(index - (side - 1) * stride);
  }
  return out;
}

/**
 * A lower bound on the number of steps between two cells: the Manhattan distance, taking the
 * shorter way round on periodic axes. A path this long is therefore a shortest one.
 */
export function stepLowerBound(lattice: Pick<Lattice, 'shape' | 'periodic'>, a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let axis = 0; axis < lattice.shape.length; axis++) {
    const delta = Math.abs(a[axis]! - b[axis]!);
    sum += lattice.periodic[axis] === true ? Math.min(delta, lattice.shape[axis]! - delta) : delta;
  }
  return sum;
}

/** Whether `index` is in a sorted array of indices. */
export function sortedHas(sorted: Float64Array, index: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const value = sorted[mid]!;
    if (value === index) return true;
    if (value < index) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/** The first position in a sorted array whose value is at least `index`. */
export function sortedLowerBound(sorted: Float64Array, index: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < index) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether a cell is blocked by the lattice's obstacles alone (a job's own cells, such as a path's
 * ends, are open whatever this says).
 */
export function isBlockedBy(obstacles: ObstacleRule, index: number): boolean {
  switch (obstacles.kind) {
    case 'none':
      return false;
    case 'procedural':
      return isProcedurallyBlocked(index, obstacles.threshold, obstacles.offset);
    case 'explicit':
      return sortedHas(obstacles.blocked, index);
    case 'map':
      return ((obstacles.bits[Math.floor(index / 8)]! >>> index % 8) & 1) === 1;
  }
}
