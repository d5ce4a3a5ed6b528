/**
 * The benchmark's lattices. Easy ones: procedural obstacles of density 0.2, corner to corner,
 * where a path as short as the Manhattan bound exists and the engine's dive answers. Hard ones:
 * dense enough that no such path exists (2-D near the site-percolation threshold, 3-D with most
 * cells blocked), with ends on the largest cluster near opposite corners, so the search must
 * run. Peers get the lattice as a mask of one byte per cell, made here with the public rule.
 */
import { writeFileSync } from 'node:fs';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { isProcedurallyBlocked } from '../../shared/lattice/lowbias32.ts';
import type { Boundary, LatticeSpecInput } from '../../shared/lattice/types.ts';

export const DENSITY = 0.2;
export const SEED = 7;
/** 2-D: open fraction 0.6, just above the square lattice's site-percolation threshold (0.5927). */
export const HARD_DENSITY_2D = 0.4;
/** 3-D: open fraction 0.4, above the cubic lattice's threshold (0.3116), below directed percolation's (0.4345). */
export const HARD_DENSITY_3D = 0.6;

/** A procedural lattice, as the API and the peers both see it. */
export interface LatticeCase {
  name: string;
  spec: LatticeSpecInput & { shape: number[]; obstacles: { density: number; seed: number } };
  shape: number[];
  cells: number;
  boundary: Boundary;
}

/** One shortest-path case. */
export interface PathCase extends LatticeCase {
  kind: 'easy' | 'hard' | 'huge';
  start: number[];
  end: number[];
  /** Hard cases: open cells of the cluster the ends were picked on. */
  clusterCells?: number;
  /** Whether a path as short as the Manhattan bound exists (not computed for the huge lattice). */
  manhattanPathExists?: boolean;
}

export function latticeCase(shape: number[], density: number, boundary: Boundary = 'open', label = ''): LatticeCase {
  const cells = shape.reduce((product, side) => product * side, 1);
  const sides = shape.every((side) => side === shape[0]) ? `side ${shape[0]}` : shape.join('×');
  return {
    name: `${shape.length}-D ${sides}, density ${density}${boundary === 'periodic' ? ', periodic' : ''}${label}`,
    spec: { shape, boundary, obstacles: { density, seed: SEED } },
    shape,
    cells,
    boundary,
  };
}

/** An easy case: density 0.2, corner to corner. */
export function easyPath(dimensions: number, side: number, huge = false): PathCase {
  const shape = new Array<number>(dimensions).fill(side);
  return {
    ...latticeCase(shape, DENSITY),
    kind: huge ? 'huge' : 'easy',
    start: new Array<number>(dimensions).fill(0),
    end: new Array<number>(dimensions).fill(side - 1),
  };
}

/** A hard case: ends on the largest cluster, near opposite corners. */
export function hardPath(shape: number[], density: number, mask: Uint8Array): PathCase {
  const lattice = latticeCase(shape, density, 'open', ', no Manhattan-length path');
  const { start, end, clusterCells } = clusterEnds(shape, mask);
  return {
    ...lattice,
    kind: 'hard',
    start: coordsOf(shape, start),
    end: coordsOf(shape, end),
    clusterCells,
    manhattanPathExists: monotonePathExists(shape, mask, start, end),
  };
}

/** One byte per cell, row-major, 1 = blocked; `open` cells (a job's own) stay open whatever the rule says. */
export function blockedMask(lattice: LatticeCase, open: readonly number[] = []): Uint8Array {
  const resolved = resolveLattice(lattice.spec);
  if (resolved.obstacles.kind !== 'procedural') throw new Error('benchmark lattices are procedural');
  const { threshold, offset } = resolved.obstacles;
  const mask = new Uint8Array(lattice.cells);
  for (let i = 0; i < mask.length; i++) mask[i] = isProcedurallyBlocked(i, threshold, offset) ? 1 : 0;
  for (const cell of open) mask[cell] = 0;
  return mask;
}

export function indexOf(shape: readonly number[], coords: readonly number[]): number {
  return coords.reduce((index, x, axis) => index * shape[axis]! + x, 0);
}

export function coordsOf(shape: readonly number[], index: number): number[] {
  const coords = new Array<number>(shape.length);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    coords[axis] = index % shape[axis]!;
    index = Math.floor(index / shape[axis]!);
  }
  return coords;
}

/** Writes a mask for a peer (one byte per cell). */
export function writeMask(mask: Uint8Array, file: string): void {
  writeFileSync(file, mask);
}

/** Writes the blocked cells as little-endian uint32 row-major indices (the igraph peer's input). */
export function writeBlockedIndices(mask: Uint8Array, file: string): number {
  let count = 0;
  for (let i = 0; i < mask.length; i++) count += mask[i]!;
  const indices = new Uint32Array(count);
  for (let i = 0, k = 0; i < mask.length; i++) if (mask[i] === 1) indices[k++] = i;
  writeFileSync(file, Buffer.from(indices.buffer));
  return count;
}

function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let axis = shape.length - 2; axis >= 0; axis--) out[axis] = out[axis + 1]! * shape[axis + 1]!;
  return out;
}

/** Open cells reachable from `start` (2·d neighbours, open boundary), marked in `seen` with `mark`. */
function flood(shape: readonly number[], mask: Uint8Array, start: number, seen: Uint8Array, queue: Int32Array): number {
  const stride = strides(shape);
  let head = 0;
  let tail = 0;
  queue[tail++] = start;
  seen[start] = 1;
  while (head < tail) {
    const cell = queue[head++]!;
    for (let axis = 0; axis < shape.length; axis++) {
      const x = Math.floor(cell / stride[axis]!) % shape[axis]!;
      if (x > 0) {
        const n = cell - stride[axis]!;
        if (mask[n] === 0 && seen[n] === 0) {
          seen[n] = 1;
          queue[tail++] = n;
        }
      }
      if (x < shape[axis]! - 1) {
        const n = cell + stride[axis]!;
        if (mask[n] === 0 && seen[n] === 0) {
          seen[n] = 1;
          queue[tail++] = n;
        }
      }
    }
  }
  return tail;
}

/**
 * Ends on one large cluster: the start is the first open cell along the main diagonal whose
 * cluster holds at least a tenth of the open cells; the end is the cell of that cluster
 * closest (in coordinate sum) to the opposite corner.
 */
function clusterEnds(shape: readonly number[], mask: Uint8Array): { start: number; end: number; clusterCells: number } {
  const cells = mask.length;
  let open = 0;
  for (let i = 0; i < cells; i++) open += 1 - mask[i]!;
  const queue = new Int32Array(cells);
  const side = Math.min(...shape);
  for (let k = 0; k < side; k++) {
    const start = indexOf(shape, shape.map(() => k));
    if (mask[start] === 1) continue;
    const seen = new Uint8Array(cells);
    const size = flood(shape, mask, start, seen, queue);
    if (size < open / 10) continue;
    let end = start;
    let best = -1;
    for (let q = 0; q < size; q++) {
      const cell = queue[q]!;
      const sum = coordsOf(shape, cell).reduce((a, b) => a + b, 0);
      if (sum > best || (sum === best && cell > end)) {
        best = sum;
        end = cell;
      }
    }
    return { start, end, clusterCells: size };
  }
  throw new Error(`no cluster of a tenth of the open cells on the diagonal of ${shape.join('×')}`);
}

/**
 * Whether a path of Manhattan length joins the two cells: one whose every step moves toward
 * the end. A dynamic programme over the box between them, in order of progress.
 */
export function monotonePathExists(shape: readonly number[], mask: Uint8Array, start: number, end: number): boolean {
  const a = coordsOf(shape, start);
  const b = coordsOf(shape, end);
  const d = shape.length;
  const span = a.map((x, axis) => Math.abs(b[axis]! - x) + 1);
  const sign = a.map((x, axis) => (b[axis]! >= x ? 1 : -1));
  const boxStride = strides(span);
  const reach = new Uint8Array(span.reduce((p, s) => p * s, 1));
  const t = new Array<number>(d).fill(0);
  for (let k = 0; k < reach.length; k++) {
    const cell = indexOf(shape, t.map((step, axis) => a[axis]! + sign[axis]! * step));
    if (mask[cell] === 0 || cell === start || cell === end) {
      let ok = k === 0;
      for (let axis = 0; axis < d && !ok; axis++) if (t[axis]! > 0 && reach[k - boxStride[axis]!] === 1) ok = true;
      reach[k] = ok ? 1 : 0;
    }
    for (let axis = d - 1; axis >= 0; axis--) {
      if (++t[axis]! < span[axis]!) break;
      t[axis] = 0;
    }
  }
  return reach[reach.length - 1] === 1;
}
