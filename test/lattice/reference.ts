/**
 * Plain reference implementations of the kernels, for tests only: every cell is a number in an
 * ordinary array, neighbours come from coordinates, and each algorithm is the textbook one
 * (one-sided BFS, union-find, a double-precision diffusion loop). Slow and obviously correct.
 */
import { isBlockedBy } from '../../shared/lattice/geometry.ts';
import type { ResolvedDiffusion } from '../../shared/lattice/job.ts';
import type { Lattice } from '../../shared/lattice/types.ts';

/** Coordinates of a cell, computed by repeated division. */
export function refCoords(lattice: Lattice, index: number): number[] {
  const coords: number[] = [];
  let rest = index;
  for (let a = lattice.dimensions - 1; a >= 0; a--) {
    coords[a] = rest % lattice.shape[a]!;
    rest = Math.floor(rest / lattice.shape[a]!);
  }
  return coords;
}

/** Index of coordinates, row-major. */
export function refIndex(lattice: Lattice, coords: readonly number[]): number {
  let index = 0;
  for (let a = 0; a < lattice.dimensions; a++) index = index * lattice.shape[a]! + coords[a]!;
  return index;
}

/** The distinct neighbours of a cell (never itself), by moving ±1 along each axis. */
export function refNeighbours(lattice: Lattice, index: number): number[] {
  const coords = refCoords(lattice, index);
  const found = new Set<number>();
  for (let a = 0; a < lattice.dimensions; a++) {
    for (const step of [-1, 1]) {
      const moved = [...coords];
      moved[a] = coords[a]! + step;
      if (moved[a]! < 0 || moved[a]! >= lattice.shape[a]!) {
        if (!lattice.periodic[a]) continue;
        moved[a] = (moved[a]! + lattice.shape[a]!) % lattice.shape[a]!;
      }
      const neighbour = refIndex(lattice, moved);
      if (neighbour !== index) found.add(neighbour);
    }
  }
  return [...found];
}

/** Which cells are blocked, with the job's own cells forced open. */
export function refBlocked(lattice: Lattice, open: readonly number[] = []): Uint8Array {
  const blocked = new Uint8Array(lattice.cells);
  for (let i = 0; i < lattice.cells; i++) blocked[i] = isBlockedBy(lattice.obstacles, i) ? 1 : 0;
  for (const cell of open) blocked[cell] = 0;
  return blocked;
}

/** A cell's neighbours under some connectivity ({@link refNeighbours} for the axis one). */
export type RefNeighbours = (lattice: Lattice, index: number) => number[];

/** Length of a shortest path by one-sided BFS, or null when `end` is unreachable. */
export function refShortestPathLength(lattice: Lattice, start: number, end: number, neighbours: RefNeighbours = refNeighbours): number | null {
  const blocked = refBlocked(lattice, [start, end]);
  const distance = new Array<number>(lattice.cells).fill(-1);
  distance[start] = 0;
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const cell = queue[head]!;
    if (cell === end) return distance[cell]!;
    for (const next of neighbours(lattice, cell)) {
      if (blocked[next] === 0 && distance[next] === -1) {
        distance[next] = distance[cell]! + 1;
        queue.push(next);
      }
    }
  }
  return null;
}

/** Why a path is not a valid path from start to end, or null when it is one. */
export function refPathProblem(lattice: Lattice, path: readonly number[][], start: number, end: number, neighbours: RefNeighbours = refNeighbours): string | null {
  const blocked = refBlocked(lattice, [start, end]);
  if (path.length === 0) return 'empty path';
  const cells = path.map((coords) => refIndex(lattice, coords));
  if (cells[0] !== start) return `starts at ${cells[0]}, not ${start}`;
  if (cells[cells.length - 1] !== end) return `ends at ${cells[cells.length - 1]}, not ${end}`;
  for (let i = 0; i < cells.length; i++) {
    const coords = path[i]!;
    if (coords.length !== lattice.dimensions || coords.some((x, a) => x < 0 || x >= lattice.shape[a]!)) {
      return `step ${i} is outside the lattice`;
    }
    if (blocked[cells[i]!] === 1) return `step ${i} is blocked`;
    if (i > 0 && !neighbours(lattice, cells[i - 1]!).includes(cells[i]!)) return `steps ${i - 1} and ${i} are not neighbours`;
  }
  return null;
}

/** Connected components of the open cells by union-find. */
export function refComponents(lattice: Lattice, neighbours: RefNeighbours = refNeighbours): { count: number; largest: number; histogram: number[]; spans_axis0: boolean } {
  const blocked = refBlocked(lattice);
  const parent = Array.from({ length: lattice.cells }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let i = 0; i < lattice.cells; i++) {
    if (blocked[i]) continue;
    for (const j of neighbours(lattice, i)) if (!blocked[j]) parent[find(i)] = find(j);
  }
  const size = new Map<number, number>();
  const touchesFirst = new Set<number>();
  const touchesLast = new Set<number>();
  for (let i = 0; i < lattice.cells; i++) {
    if (blocked[i]) continue;
    const root = find(i);
    size.set(root, (size.get(root) ?? 0) + 1);
    const row = refCoords(lattice, i)[0]!;
    if (row === 0) touchesFirst.add(root);
    if (row === lattice.shape[0]! - 1) touchesLast.add(root);
  }
  const histogram: number[] = [];
  let largest = 0;
  for (const cells of size.values()) {
    largest = Math.max(largest, cells);
    const bin = Math.floor(Math.log2(cells));
    while (histogram.length <= bin) histogram.push(0);
    histogram[bin]!++;
  }
  return {
    count: size.size,
    largest,
    histogram,
    spans_axis0: [...touchesFirst].some((root) => touchesLast.has(root)),
  };
}

/** The field after `steps` explicit steps, in double precision. */
export function refDiffusion(lattice: Lattice, params: ResolvedDiffusion): Float64Array {
  const open = [...params.sources, ...params.initial].map((point) => point.index);
  const blocked = refBlocked(lattice, open);
  let field = new Float64Array(lattice.cells);
  for (const point of params.initial) field[point.index]! += point.value;
  for (let step = 0; step < params.steps; step++) {
    for (const point of params.sources) field[point.index]! += point.value;
    const next = new Float64Array(lattice.cells);
    for (let i = 0; i < lattice.cells; i++) {
      if (blocked[i]) continue;
      let flux = 0;
      for (const j of refNeighbours(lattice, i)) if (!blocked[j]) flux += field[j]! - field[i]!;
      next[i] = field[i]! + params.alpha * flux;
    }
    field = next;
  }
  return field;
}

/** Block means of a field on a sampled shape (cell x of side n goes to block floor(x·m/n)). */
export function refSample(lattice: Lattice, field: Float64Array, sampled: readonly number[]): number[] {
  const total = sampled.reduce((p, s) => p * s, 1);
  const sums = new Array<number>(total).fill(0);
  const counts = new Array<number>(total).fill(0);
  for (let i = 0; i < lattice.cells; i++) {
    const coords = refCoords(lattice, i);
    let block = 0;
    for (let a = 0; a < lattice.dimensions; a++) {
      block = block * sampled[a]! + Math.floor((coords[a]! * sampled[a]!) / lattice.shape[a]!);
    }
    sums[block]! += field[i]!;
    counts[block]!++;
  }
  return sums.map((sum, i) => sum / counts[i]!);
}
