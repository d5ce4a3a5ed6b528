/**
 * The shortest-path fast path: a depth-first search that only takes steps bringing it one closer
 * to the end (by the Manhattan lower bound, wrapping on periodic axes). A path it finds has
 * exactly lower-bound length, so it is a shortest path; when there is none (or the budget runs
 * out) the bidirectional search answers instead. On open lattices with scattered obstacles such
 * a path usually exists, and the dive finds it touching little more than the path's own cells.
 */
import { coordsOf, isBlockedBy, stepLowerBound } from '../../shared/lattice/geometry.ts';
import { CellSet } from './cell-set.ts';
import type { JobControl } from './job-control.ts';
import type { DiveTask } from './task.ts';

/** What the dive found. */
export interface DiveOutcome {
  /** The path's cells, start to end, or null when the dive found none. */
  path: number[] | null;
  /** Cells the dive entered. */
  visited: number;
  bytes: number;
}

/** Cells the dive enters between two cancel checks. */
const CHECK_EVERY = 4096;

export function lowerBoundDive(task: DiveTask, control: JobControl): DiveOutcome {
  const { lattice, start, end, budget } = task;
  const { shape, strides, dimensions: d } = lattice;
  const periodic = lattice.boundary === 'periodic';
  const target = coordsOf(lattice, end);
  const coords = coordsOf(lattice, start);
  const bound = stepLowerBound(lattice, coords, target);
  const obstacles = lattice.obstacles;
  // The steps below are module functions, not closures: under tsx (esbuild's keepNames) each named
  // closure costs a defineProperty per call, and a tiny job's dive is a few microseconds.
  const path: number[] = [start];
  /** Per level: how many of its ordered moves were tried, and the move that led below it. */
  const tried: number[] = [0];
  const moves: number[] = [];
  const dead = new CellSet();
  const order = new Int32Array(2 * d);
  const keys = new Float64Array(2 * d);
  let entered = 1;

  for (let iteration = 1; ; iteration++) {
    if (iteration % CHECK_EVERY === 0) {
      control.checkpoint();
      control.publishProgress((0.5 * path.length) / (bound + 1));
    }
    const level = path.length - 1;
    const cell = path[level]!;
    if (cell === end) return { path, visited: entered, bytes: dead.bytes + order.byteLength + keys.byteLength };
    const count = orderMoves(shape, coords, target, periodic, order, keys);
    let advanced = false;
    while (tried[level]! < count) {
      const move = order[tried[level]!]!;
      tried[level]!++;
      const next = applyMove(shape, strides, coords, cell, move, 1);
      if (!dead.has(next) && (next === end || next === start || !isBlockedBy(obstacles, next))) {
        path.push(next);
        tried.push(0);
        moves.push(move);
        entered++;
        advanced = true;
        break;
      }
      applyMove(shape, strides, coords, next, move, -1);
    }
    if (advanced) {
      if (entered > budget) break;
      continue;
    }
    // Every shortening move from here is blocked or leads nowhere: no lower-bound path uses it.
    dead.add(cell);
    path.pop();
    tried.pop();
    if (path.length === 0) break;
    applyMove(shape, strides, coords, cell, moves.pop()!, -1);
  }
  return { path: null, visited: entered, bytes: dead.bytes + order.byteLength + keys.byteLength };
}

/**
 * Orders the moves from `coords` that shorten the remaining distance to `target` into `order`;
 * answers how many. A move is `axis * 2 + (up ? 1 : 0)`; longest remaining axis first, which keeps
 * the path near the diagonal where detours stay possible.
 */
function orderMoves(shape: readonly number[], coords: number[], target: readonly number[], periodic: boolean, order: Int32Array, keys: Float64Array): number {
  let count = 0;
  for (let a = 0; a < shape.length; a++) {
    const side = shape[a]!;
    const x = coords[a]!;
    const e = target[a]!;
    if (x === e) continue;
    let up = e > x ? e - x : 0;
    let down = e < x ? x - e : 0;
    if (periodic) {
      const forward = (e - x + side) % side;
      const backward = side - forward;
      up = forward <= backward ? forward : 0;
      down = backward <= forward ? backward : 0;
    }
    if (up > 0) count = insertMove(order, keys, count, a * 2 + 1, up);
    if (down > 0) count = insertMove(order, keys, count, a * 2, down);
  }
  return count;
}

/** Takes `move` from `cell` (`sign` −1: undoes it), updating `coords`; answers the cell reached. */
function applyMove(shape: readonly number[], strides: readonly number[], coords: number[], cell: number, move: number, sign: 1 | -1): number {
  const a = move >> 1;
  const side = shape[a]!;
  const stride = strides[a]!;
  const up = (move & 1) === 1 ? sign === 1 : sign === -1;
  const x = coords[a]!;
  if (up) {
    coords[a] = x === side - 1 ? 0 : x + 1;
    return x === side - 1 ? cell - (side - 1) * stride : cell + stride;
  }
  coords[a] = x === 0 ? side - 1 : x - 1;
  return x === 0 ? cell + (side - 1) * stride : cell - stride;
}

/** Inserts a move into the list ordered by key, largest first; ties keep axis order. */
function insertMove(order: Int32Array, keys: Float64Array, count: number, move: number, key: number): number {
  let i = count;
  while (i > 0 && keys[i - 1]! < key) {
    order[i] = order[i - 1]!;
    keys[i] = keys[i - 1]!;
    i--;
  }
  order[i] = move;
  keys[i] = key;
  return count + 1;
}
