/**
 * Minimum-cost paths on a per-cell cost map, exactly, with Dial's buckets: costs are integers in
 * [1, max], so a circular array of max + 1 buckets holds every tentative cost still pending, and
 * the search settles cells in order of cost without a heap. A path's cost is the sum of the costs
 * of the cells it enters (start excluded, end included). The path is walked back from the end
 * through neighbours whose cost plus the current cell's equals the current cell's, so no parent
 * array is kept: a byte of cost and a float64 of distance per cell.
 */
import type { ResolvedMinCostPath } from '../../shared/lattice/job.ts';
import { MAX_RETURNED_PATH_CELLS } from '../../shared/lattice/limits.ts';
import type { Lattice, MinCostPathResult } from '../../shared/lattice/types.ts';
import { CellQueue } from './cell-queue.ts';
import { dialEngine, runDial } from './dial.ts';
import type { JobControl } from './job-control.ts';
import { fillOpenMask } from './open-mask.ts';

/** What the thread returns: the path as cell indices (path-result.ts). */
export interface MinCostPathOutcome {
  result: Omit<MinCostPathResult, 'memory_bytes' | 'path'> & { path: Uint32Array };
  bytes: number;
  build_ms: number;
}

export function minCostPath(lattice: Lattice, params: ResolvedMinCostPath, control: JobControl): MinCostPathOutcome {
  const { start, end, maxCost } = params;
  if (start === end) {
    return { result: { reachable: true, cost: 0, length: 0, path: Uint32Array.of(start), visited: 1 }, bytes: 0, build_ms: 0 };
  }
  const started = performance.now();
  const engine = dialEngine(lattice, params.connectivity, maxCost, () => {}, true);
  const checkpoint = (): void => control.checkpoint();
  fillOpenMask(engine.costs, lattice.obstacles, [start, end], checkpoint);
  const openCells = engine.fillCosts(maxCost, params.costOffset, checkpoint);
  engine.start([start], 1, end);
  const build_ms = performance.now() - started;

  const found = runDial(engine, control, openCells);
  control.checkpoint();
  const settled = engine.settled;
  let bytes = engine.bytes;
  if (!found) return { result: { reachable: false, cost: null, length: null, path: new Uint32Array(0), visited: settled }, bytes, build_ms };

  // Back from the end by the moves that reached each cell.
  const cells = new CellQueue(1024);
  cells.push(end);
  for (let cell = end; cell !== start; ) {
    cell = engine.previous(cell);
    cells.push(cell);
  }
  bytes += cells.bytes;
  const length = cells.length - 1;
  const base = { reachable: true, cost: engine.cost, length, visited: settled };
  if (cells.length > MAX_RETURNED_PATH_CELLS) return { result: { ...base, path: new Uint32Array(0), path_omitted: true }, bytes, build_ms };
  // Cell indices, start to end: the pool writes them as coordinates (path-result.ts).
  const path = cells.data.slice(0, cells.length).reverse();
  return { result: { ...base, path }, bytes, build_ms };
}
