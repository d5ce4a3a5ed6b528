/**
 * Minimum-cost paths on a per-cell cost map, exactly, with Dial's buckets: costs are integers in
 * [1, max], so a circular array of max + 1 buckets holds every tentative cost still pending, and
 * the search settles cells in order of cost without a heap. A path's cost is the sum of the costs
 * of the cells it enters (start excluded, end included). The path is walked back from the end
 * through neighbours whose cost plus the current cell's equals the current cell's, so no parent
 * array is kept: a byte of cost and a float64 of distance per cell.
 */
import { cellCost } from '../../shared/lattice/cost-rule.ts';
import type { ResolvedMinCostPath } from '../../shared/lattice/job.ts';
import { MAX_RETURNED_PATH_CELLS } from '../../shared/lattice/limits.ts';
import { coordsOf } from '../../shared/lattice/geometry.ts';
import type { Lattice, MinCostPathResult } from '../../shared/lattice/types.ts';
import { CellQueue } from './cell-queue.ts';
import type { JobControl } from './job-control.ts';
import { InteriorSteps } from './neighbour-steps.ts';
import { fillOpenMask } from './open-mask.ts';

/** Cells settled between two cancel checks. */
const CHECK_CELLS = 32768;

/** What the thread returns. */
export interface MinCostPathOutcome {
  result: Omit<MinCostPathResult, 'memory_bytes'>;
  bytes: number;
  build_ms: number;
}

/** Fills `costs` with each cell's cost, 0 for a blocked cell; returns the number of open cells. */
export function fillCosts(costs: Uint8Array, lattice: Lattice, params: ResolvedMinCostPath, checkpoint: () => void = () => {}): number {
  fillOpenMask(costs, lattice.obstacles, [params.start, params.end], checkpoint);
  const { maxCost, costOffset } = params;
  let open = 0;
  for (let i = 0; i < costs.length; i++) {
    if ((i & 0xfffff) === 0) checkpoint();
    if (costs[i] === 0) continue;
    costs[i] = maxCost === 1 ? 1 : cellCost(i, maxCost, costOffset);
    open++;
  }
  return open;
}

export function minCostPath(lattice: Lattice, params: ResolvedMinCostPath, control: JobControl): MinCostPathOutcome {
  const { start, end, maxCost } = params;
  if (start === end) {
    return { result: { reachable: true, cost: 0, length: 0, path: [coordsOf(lattice, start)], visited: 1 }, bytes: 0, build_ms: 0 };
  }
  const started = performance.now();
  const costs = new Uint8Array(lattice.cells);
  const openCells = fillCosts(costs, lattice, params, () => control.checkpoint());
  const dist = new Float64Array(lattice.cells).fill(Infinity);
  const build_ms = performance.now() - started;

  const steps = new InteriorSteps(lattice, params.connectivity);
  const around = new Int32Array(steps.max);
  const { d, shape, offsets } = steps;
  const ring = maxCost + 1;
  const buckets = Array.from({ length: ring }, () => new CellQueue(256));
  dist[start] = 0;
  buckets[0]!.push(start);
  let pending = 1;
  let settled = 0;
  let untilCheck = CHECK_CELLS;
  let found = false;
  // `slot` is cost mod ring, kept by addition: a neighbour entered at cost + step goes to slot + step.
  search: for (let cost = 0, slot = 0; pending > 0; cost++, slot = slot === maxCost ? 0 : slot + 1) {
    const bucket = buckets[slot]!;
    // Entering a cell costs at least 1, so nothing settled here lands in this bucket again.
    while (bucket.length > 0) {
      const cell = bucket.data[--bucket.length]! | 0;
      pending--;
      if (dist[cell] !== cost) continue; // a stale entry: the cell was reached cheaper since
      settled++;
      if (cell === end) {
        found = true;
        break search;
      }
      // Off every face the neighbours are the cell plus the offsets; on a face, the general steps.
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
      const count = inside ? offsets.length : steps.fill(cell, around);
      for (let j = 0; j < count; j++) {
        const neighbour = inside ? cell + offsets[j]! : around[j]!;
        const step = costs[neighbour]!;
        if (step === 0) continue;
        const reach = cost + step;
        if (reach < dist[neighbour]!) {
          dist[neighbour] = reach;
          const to = slot + step;
          buckets[to >= ring ? to - ring : to]!.push(neighbour);
          pending++;
        }
      }
      if (--untilCheck === 0) {
        untilCheck = CHECK_CELLS;
        control.checkpoint();
        control.publishProgress((0.95 * settled) / openCells);
      }
    }
  }
  control.checkpoint();
  let bytes = costs.byteLength + dist.byteLength + around.byteLength;
  for (const bucket of buckets) bytes += bucket.bytes;
  if (!found) return { result: { reachable: false, cost: null, length: null, path: [], visited: settled }, bytes, build_ms };

  // Back from the end: some neighbour's cost is exactly this cell's cost less its own.
  const cells = new CellQueue(1024);
  cells.push(end);
  for (let cell = end; cell !== start; ) {
    const before = dist[cell]! - costs[cell]!;
    const count = steps.fill(cell, around);
    let previous = -1;
    for (let j = 0; j < count; j++) {
      if (dist[around[j]!] === before) {
        previous = around[j]!;
        break;
      }
    }
    if (previous < 0) throw new Error(`min_cost_path: no predecessor of cell ${cell} at cost ${before}`);
    cells.push(previous);
    cell = previous;
  }
  bytes += cells.bytes;
  const length = cells.length - 1;
  const base = { reachable: true, cost: dist[end]!, length, visited: settled };
  if (cells.length > MAX_RETURNED_PATH_CELLS) return { result: { ...base, path: [], path_omitted: true }, bytes, build_ms };
  const path: number[][] = new Array<number[]>(cells.length);
  for (let k = 0; k < cells.length; k++) path[k] = coordsOf(lattice, cells.data[cells.length - 1 - k]!);
  return { result: { ...base, path }, bytes, build_ms };
}
