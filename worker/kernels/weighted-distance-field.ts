/**
 * Distance fields on a cost map: the least sum of the costs of the cells entered from the nearest
 * source, for every reachable open cell, by a multi-source Dial's search (min-cost-path.ts's
 * buckets, every source in bucket 0, no end to stop at). Cells are settled in order of cost, so
 * the summary (largest, mean, histogram) is folded in as they settle; a cost byte and a float64
 * distance per cell.
 */
import { cellCost } from '../../shared/lattice/cost-rule.ts';
import type { ResolvedDistanceField } from '../../shared/lattice/job.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { CellQueue } from './cell-queue.ts';
import { DistanceHistogram, type DistanceFieldOutcome, faceCells } from './distance-field.ts';
import type { JobControl } from './job-control.ts';
import { InteriorSteps } from './neighbour-steps.ts';
import { fillOpenMask } from './open-mask.ts';

/** Cells settled between two cancel checks. */
const CHECK_CELLS = 32768;

export function weightedDistanceField(lattice: Lattice, params: ResolvedDistanceField, control: JobControl): DistanceFieldOutcome {
  const { maxCost, costOffset } = params.costs!;
  const started = performance.now();
  const costs = new Uint8Array(lattice.cells);
  fillOpenMask(costs, lattice.obstacles, params.sources ?? [], () => control.checkpoint());
  const ring = maxCost + 1;
  const buckets = Array.from({ length: ring }, () => new CellQueue(256));
  const first = buckets[0]!;
  // The face's open cells while the bytes still say 1 for open.
  if (params.face) faceCells(lattice, params.face, costs, first);
  else for (const cell of params.sources ?? []) first.push(cell);
  let openCells = 0;
  for (let i = 0; i < costs.length; i++) {
    if ((i & 0xfffff) === 0) control.checkpoint();
    if (costs[i] === 0) continue;
    costs[i] = maxCost === 1 ? 1 : cellCost(i, maxCost, costOffset);
    openCells++;
  }
  const dist = new Float64Array(lattice.cells).fill(Infinity);
  const sources = first.length;
  for (let k = 0; k < sources; k++) dist[first.data[k]!] = 0;
  const build_ms = performance.now() - started;

  const steps = new InteriorSteps(lattice, params.connectivity);
  const around = new Int32Array(steps.max);
  const histogram = new DistanceHistogram();
  let pending = sources;
  let reached = 0;
  let sum = 0;
  let largest = 0;
  let untilCheck = CHECK_CELLS;
  for (let cost = 0, slot = 0; pending > 0; cost++, slot = slot === maxCost ? 0 : slot + 1) {
    const bucket = buckets[slot]!;
    let settledHere = 0;
    while (bucket.length > 0) {
      const cell = bucket.data[--bucket.length]! | 0;
      pending--;
      if (dist[cell] !== cost) continue; // stale: reached cheaper since
      settledHere++;
      const count = steps.fill(cell, around);
      for (let j = 0; j < count; j++) {
        const neighbour = around[j]!;
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
        control.publishProgress((0.95 * (reached + settledHere)) / openCells);
      }
    }
    if (settledHere > 0) {
      histogram.add(cost, settledHere);
      reached += settledHere;
      sum += cost * settledHere;
      largest = cost;
    }
  }
  control.checkpoint();
  let bytes = costs.byteLength + dist.byteLength + around.byteLength;
  for (const bucket of buckets) bytes += bucket.bytes;
  return {
    result: {
      sources,
      reached,
      unreachable: openCells - reached,
      max: reached > 0 ? largest : null,
      mean: reached > 0 ? sum / reached : null,
      histogram: histogram.toJSON(),
    },
    bytes,
    build_ms,
  };
}
