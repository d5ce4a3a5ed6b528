/**
 * Distance fields on a cost map: the least sum of the costs of the cells entered from the nearest
 * source, for every reachable open cell, by a multi-source Dial's search (dial.ts, every source
 * at cost 0, no end to stop at). Cells are settled in order of cost, so the summary (largest,
 * mean, histogram) is folded in as each cost's cells are counted.
 */
import type { ResolvedDistanceField } from '../../shared/lattice/job.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { CellQueue } from './cell-queue.ts';
import { dialEngine, runDial } from './dial.ts';
import { DistanceHistogram, type DistanceFieldOutcome, faceCells } from './distance-field.ts';
import type { JobControl } from './job-control.ts';
import { fillOpenMask } from './open-mask.ts';

export function weightedDistanceField(lattice: Lattice, params: ResolvedDistanceField, control: JobControl): DistanceFieldOutcome {
  const { maxCost, costOffset } = params.costs!;
  const started = performance.now();
  const histogram = new DistanceHistogram();
  let reached = 0;
  let sum = 0;
  let largest = 0;
  const engine = dialEngine(lattice, params.connectivity, maxCost, (cost, cells) => {
    histogram.add(cost, cells);
    reached += cells;
    sum += cost * cells;
    largest = cost;
  }, false);
  const costs = engine.costs;
  fillOpenMask(costs, lattice.obstacles, params.sources ?? [], () => control.checkpoint());
  const first = new CellQueue(256);
  // The face's open cells while the bytes still say 1 for open.
  if (params.face) faceCells(lattice, params.face, costs, first);
  else for (const cell of params.sources ?? []) first.push(cell);
  const openCells = engine.fillCosts(maxCost, costOffset, () => control.checkpoint());
  const sources = first.length;
  engine.start(first.data, sources, -1);
  const build_ms = performance.now() - started;

  runDial(engine, control, openCells);
  control.checkpoint();
  return {
    result: {
      sources,
      reached,
      unreachable: openCells - reached,
      max: reached > 0 ? largest : null,
      mean: reached > 0 ? sum / reached : null,
      histogram: histogram.toJSON(),
    },
    bytes: engine.bytes + first.bytes,
    build_ms,
  };
}
