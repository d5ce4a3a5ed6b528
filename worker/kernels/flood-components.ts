/**
 * Connected components under any connectivity, in one thread, by flood fill: the cells are
 * scanned in index order and each open cell not yet reached starts a cluster, filled breadth
 * first. So clusters are numbered by their smallest cell, as components' `labels` artefact and
 * scipy.ndimage.label number them. The state is a byte per cell (open and not reached yet) and
 * one queue; labels per cell only when asked for (the artefact).
 *
 * The components kernel's slab labelling (components.ts) serves the axis connectivity; this one
 * serves `full` (3^d − 1 neighbours), where a run of cells meets the runs of up to 3^(d−1) rows.
 */
import type { ComponentsResult, Connectivity, Lattice } from '../../shared/lattice/types.ts';
import { CellNeighbours } from './cell-neighbours.ts';
import { CellQueue } from './cell-queue.ts';
import { FinishedClusters, HISTOGRAM_BINS } from './finished-clusters.ts';
import type { JobControl } from './job-control.ts';
import { InteriorSteps } from './neighbour-steps.ts';
import { fillOpenMask } from './open-mask.ts';

/** Cells taken from the queue between two cancel checks. */
const CHECK_CELLS = 32768;

/** What the thread returns. */
export interface FloodComponentsOutcome {
  result: Omit<ComponentsResult, 'memory_bytes'>;
  bytes: number;
  build_ms: number;
}

/** Optional per-cell output of {@link floodComponents}. */
export interface FloodLabels {
  /** Per cell: 0 when blocked, else 1 + the cluster's number (clusters in order of their smallest cell). */
  labels: Uint32Array;
  /** Per cluster, its cells. */
  sizes: number[];
}

/**
 * Labels the open cells of `lattice` under `connectivity`.
 *
 * @param control - cancel checks and progress; null where nothing can cancel (the artefact pass)
 * @param labels - filled when given (length `lattice.cells`, zeroed)
 */
export function floodComponents(lattice: Lattice, connectivity: Connectivity, control: JobControl | null, labels: FloodLabels | null = null): FloodComponentsOutcome {
  const started = performance.now();
  const { cells } = lattice;
  const open = new Uint8Array(cells);
  fillOpenMask(open, lattice.obstacles, [], () => control?.checkpoint());
  const build_ms = performance.now() - started;

  const steps = new CellNeighbours(lattice, connectivity);
  const { around } = steps;
  // Below 2^31 cells a cell off every face takes its neighbours from one offset list, inlined.
  const interior = cells < 2 ** 31 ? new InteriorSteps(lattice, connectivity) : null;
  const offsets = interior?.offsets ?? new Int32Array(0);
  const shape = interior?.shape ?? new Int32Array(0);
  const d = shape.length;
  const rowCells = lattice.strides[0]!;
  const lastRow = cells - rowCells;
  const queue = new CellQueue(1024);
  const finished = new FinishedClusters();
  let spans = false;
  let done = 0;
  let untilCheck = CHECK_CELLS;
  for (let seed = 0; seed < cells; seed++) {
    if (open[seed] === 0) continue;
    open[seed] = 0;
    queue.clear();
    queue.push(seed);
    const label = finished.count + 1;
    let size = 0;
    let first = false;
    let last = false;
    while (queue.head < queue.length) {
      const cell = queue.shift();
      size++;
      if (cell < rowCells) first = true;
      if (cell >= lastRow) last = true;
      if (labels !== null) labels.labels[cell] = label;
      let inside = interior !== null;
      for (let a = d - 1, rest = cell; inside && a >= 0; a--) {
        const side = shape[a]!;
        const quotient = (rest / side) | 0;
        const x = rest - quotient * side;
        rest = quotient;
        if (x === 0 || x === side - 1) inside = false;
      }
      if (inside) {
        for (let j = 0; j < offsets.length; j++) {
          const neighbour = cell + offsets[j]!;
          if (open[neighbour] === 1) {
            open[neighbour] = 0;
            queue.push(neighbour);
          }
        }
      } else {
        const count = steps.fill(cell);
        for (let j = 0; j < count; j++) {
          const neighbour = around[j]!;
          if (open[neighbour] === 1) {
            open[neighbour] = 0;
            queue.push(neighbour);
          }
        }
      }
      if (--untilCheck === 0 && control !== null) {
        untilCheck = CHECK_CELLS;
        control.checkpoint();
        control.publishProgress((0.95 * (done + size)) / cells);
      }
    }
    done += size;
    finished.add(size);
    labels?.sizes.push(size);
    if (first && last) spans = true;
  }
  control?.checkpoint();
  const histogram = Array.from(finished.histogram.subarray(0, HISTOGRAM_BINS));
  while (histogram.length > 0 && histogram[histogram.length - 1] === 0) histogram.pop();
  return {
    result: { count: finished.count, largest: finished.largest, histogram, spans_axis0: spans },
    bytes: open.byteLength + queue.bytes,
    build_ms,
  };
}
