/**
 * Many shortest paths on one lattice, in one thread: the open cells are materialised once (a
 * byte each) and every search reuses them. Pairs are grouped by start; one breadth-first search
 * from each distinct start runs layer by layer until all of its pairs' ends are reached (or
 * nothing more is), and each path is walked back through neighbours one step closer. Each
 * search stamps the cells it reaches with its own number, so no array is cleared between
 * searches: a cell's distance is valid only under the current stamp.
 *
 * It also answers a single pair under the `full` connectivity (diagonal steps), which the
 * bidirectional search and the lower-bound dive (axis steps only) do not serve.
 */
import { MAX_RETURNED_PATH_CELLS } from '../../shared/lattice/limits.ts';
import type { Connectivity, Lattice, ShortestPathResult } from '../../shared/lattice/types.ts';
import { CellNeighbours } from './cell-neighbours.ts';
import { CellQueue } from './cell-queue.ts';
import type { JobControl } from './job-control.ts';
import { fillOpenMask } from './open-mask.ts';

/** Cells taken from a frontier between two cancel checks. */
const CHECK_CELLS = 32768;

/** A pair's result with its path as cell indices, start to end (path-result.ts). */
type PairResult = Omit<NonNullable<ShortestPathResult['pairs']>[number], 'path'> & { path: Uint32Array };

const NO_CELLS = new Uint32Array(0);

/** What the thread returns: paths as cell indices (the pool writes them as coordinates). */
export interface PathPairsOutcome {
  result: Omit<ShortestPathResult, 'memory_bytes' | 'path' | 'pairs'> & { path: Uint32Array; pairs: PairResult[] };
  bytes: number;
  build_ms: number;
}

export function pathPairs(
  lattice: Lattice,
  pairs: ReadonlyArray<{ start: number; end: number }>,
  connectivity: Connectivity,
  control: JobControl,
): PathPairsOutcome {
  const started = performance.now();
  const cells = lattice.cells;
  const open = new Uint8Array(cells);
  fillOpenMask(open, lattice.obstacles, pairs.flatMap((pair) => [pair.start, pair.end]), () => control.checkpoint());
  // Per cell: the number of the search that last reached it (searches are at most 1,000), and its distance there.
  const stamp = new Uint16Array(cells);
  const dist = new Int32Array(cells);
  const build_ms = performance.now() - started;

  const steps = new CellNeighbours(lattice, connectivity);
  const { around } = steps;
  const fill = (cell: number): number => steps.fill(cell);

  const byStart = new Map<number, number[]>();
  pairs.forEach((pair, i) => byStart.set(pair.start, [...(byStart.get(pair.start) ?? []), i]));
  const results = new Array<PairResult>(pairs.length);
  let frontier = new CellQueue(1024);
  let next = new CellQueue(1024);
  const path = new CellQueue(1024);
  let pathBudget = MAX_RETURNED_PATH_CELLS;
  let visitedTotal = 0;
  let search = 0;
  let done = 0;
  for (const [start, members] of byStart) {
    search++;
    const waiting = new Set(members.map((i) => pairs[i]!.end));
    stamp[start] = search;
    dist[start] = 0;
    waiting.delete(start);
    frontier.clear();
    frontier.push(start);
    let visited = 1;
    let untilCheck = CHECK_CELLS;
    for (let layer = 1; frontier.length > 0 && waiting.size > 0; layer++) {
      next.clear();
      for (let k = 0; k < frontier.length; k++) {
        const count = fill(frontier.data[k]!);
        for (let j = 0; j < count; j++) {
          const neighbour = around[j]!;
          if (open[neighbour] === 0 || stamp[neighbour] === search) continue;
          stamp[neighbour] = search;
          dist[neighbour] = layer;
          visited++;
          next.push(neighbour);
          waiting.delete(neighbour);
        }
        if (--untilCheck === 0) {
          untilCheck = CHECK_CELLS;
          control.checkpoint();
          // Within a search, the share of the lattice it reached so far.
          control.publishProgress((0.95 * (done + Math.min(1, visited / cells))) / pairs.length);
        }
      }
      const swap = frontier;
      frontier = next;
      next = swap;
    }
    visitedTotal += visited;
    for (const i of members) {
      const { end } = pairs[i]!;
      if (stamp[end] !== search) {
        results[i] = { reachable: false, length: null, path: NO_CELLS, visited };
        continue;
      }
      const length = dist[end]!;
      if (length + 1 > pathBudget) {
        results[i] = { reachable: true, length, path: NO_CELLS, path_omitted: true, visited };
        continue;
      }
      // Back from the end through neighbours one step closer to the start.
      path.clear();
      path.push(end);
      for (let cell = end, d = length; d > 0; d--) {
        const count = fill(cell);
        for (let j = 0; j < count; j++) {
          const neighbour = around[j]!;
          if (stamp[neighbour] === search && dist[neighbour] === d - 1) {
            cell = neighbour;
            break;
          }
        }
        path.push(cell);
      }
      pathBudget -= path.length;
      // Cell indices, start to end: the pool writes them as coordinates (path-result.ts).
      const cellsOnPath = path.data.slice(0, path.length).reverse();
      results[i] = { reachable: true, length, path: cellsOnPath, visited };
    }
    done += members.length;
    control.checkpoint();
    control.publishProgress((0.95 * done) / pairs.length);
  }
  const bytes = open.byteLength + stamp.byteLength + dist.byteLength + frontier.bytes + next.bytes + path.bytes;
  return {
    result: { reachable: results.every((r) => r.reachable), length: null, path: NO_CELLS, visited: visitedTotal, pairs: results },
    bytes,
    build_ms,
  };
}
