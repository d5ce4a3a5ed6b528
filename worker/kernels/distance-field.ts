/**
 * Distance fields: steps from the nearest source to every reachable open cell, by a multi-source
 * breadth-first search one layer at a time, in one thread. The state is a byte per cell (open and
 * not yet reached, or not) and two frontier lists; distances are never stored per cell, since the
 * summary (largest, mean, histogram, unreachable) needs only each layer's size.
 */
import { DISTANCE_HISTOGRAM_BINS } from '../../shared/lattice/limits.ts';
import type { ResolvedDistanceField } from '../../shared/lattice/job.ts';
import type { Connectivity, DistanceFieldResult, Lattice } from '../../shared/lattice/types.ts';
import { CellQueue } from './cell-queue.ts';
import { ClassBfsWasm, classBfsFits } from './class-bfs-wasm.ts';
import type { JobControl } from './job-control.ts';
import { type AxisTables, axisTables, InteriorSteps, NeighbourSteps } from './neighbour-steps.ts';
import { fillOpenMask } from './open-mask.ts';

/** Cells taken from a frontier between two cancel checks. */
const CHECK_CELLS = 32768;

/** What the thread returns. */
export interface DistanceFieldOutcome {
  result: Omit<DistanceFieldResult, 'memory_bytes'>;
  bytes: number;
  build_ms: number;
}

/** Layer sizes folded into a fixed number of bins whose width doubles as distances grow. */
export class DistanceHistogram {
  readonly counts = new Float64Array(DISTANCE_HISTOGRAM_BINS);
  width = 1;

  /** Adds `cells` cells at `distance`; distances arrive in ascending order. */
  add(distance: number, cells: number): void {
    const bins = DISTANCE_HISTOGRAM_BINS;
    while (distance >= bins * this.width) {
      for (let k = 0; k < bins / 2; k++) this.counts[k] = this.counts[2 * k]! + this.counts[2 * k + 1]!;
      this.counts.fill(0, bins / 2);
      this.width *= 2;
    }
    this.counts[Math.floor(distance / this.width)]! += cells;
  }

  /** The bins up to the last non-empty one. */
  toJSON(): { bin_width: number; counts: number[] } {
    let end = this.counts.length;
    while (end > 0 && this.counts[end - 1] === 0) end--;
    return { bin_width: this.width, counts: Array.from(this.counts.subarray(0, end)) };
  }
}

/** The open cells of a face, in index order. */
export function faceCells(lattice: Lattice, face: { axis: number; side: 'low' | 'high' }, open: Uint8Array, into: CellQueue): void {
  const side = lattice.shape[face.axis]!;
  const stride = lattice.strides[face.axis]!;
  const block = side * stride;
  const offset = face.side === 'low' ? 0 : (side - 1) * stride;
  for (let outer = 0; outer < lattice.cells; outer += block) {
    for (let inner = 0; inner < stride; inner++) {
      const cell = outer + offset + inner;
      if (open[cell] === 1) into.push(cell);
    }
  }
}

export function distanceField(lattice: Lattice, params: ResolvedDistanceField, control: JobControl): DistanceFieldOutcome {
  const tables = params.connectivity === 'axis' ? axisTables(lattice) : null;
  // Diagonals (or an axis search past the inlined steps' reach) go by class rows in WebAssembly where they fit.
  const byClass = tables === null && classBfsFits(lattice) ? new ClassBfsWasm(lattice, params.connectivity) : null;
  try {
    return search(lattice, params, control, tables, byClass);
  } finally {
    byClass?.release();
  }
}

function search(lattice: Lattice, params: ResolvedDistanceField, control: JobControl, tables: AxisTables | null, byClass: ClassBfsWasm | null): DistanceFieldOutcome {
  const started = performance.now();
  const cells = lattice.cells;
  // 1: open and not reached yet; 0: blocked or reached.
  const open = byClass?.state ?? new Uint8Array(cells);
  fillOpenMask(open, lattice.obstacles, params.sources ?? [], () => control.checkpoint());
  let openCells = 0;
  for (let i = 0; i < cells; i++) openCells += open[i]!;
  let frontier = new CellQueue(1024);
  let next = new CellQueue(1024);
  if (params.face) faceCells(lattice, params.face, open, frontier);
  else for (const cell of params.sources ?? []) frontier.push(cell);
  const sources = frontier.length;
  for (let k = 0; k < sources; k++) open[frontier.data[k]!] = 0;
  const expand = layerExpander(lattice, params.connectivity, tables, byClass);
  const build_ms = performance.now() - started;

  const histogram = new DistanceHistogram();
  let distance = 0;
  let reached = 0;
  let distanceSum = 0;
  while (frontier.length > 0) {
    const layer = frontier.length;
    histogram.add(distance, layer);
    reached += layer;
    distanceSum += distance * layer;
    next.clear();
    for (let from = 0; from < layer; from += CHECK_CELLS) {
      expand(frontier.data, from, Math.min(layer, from + CHECK_CELLS), open, next);
      control.checkpoint();
      control.publishProgress((0.95 * (reached + next.length)) / openCells);
    }
    const done = frontier;
    frontier = next;
    next = done;
    distance++;
  }
  control.checkpoint();
  const bytes = (byClass?.bytes ?? open.byteLength) + frontier.bytes + next.bytes;
  return {
    result: {
      sources,
      reached,
      unreachable: openCells - reached,
      max: reached > 0 ? distance - 1 : null,
      mean: reached > 0 ? distanceSum / reached : null,
      histogram: histogram.toJSON(),
    },
    bytes,
    build_ms,
  };
}

/** Reaches the open neighbours of `list[from, to)`, marking them (0 in `open`) and adding them to `next`. */
type LayerExpander = (list: Uint32Array, from: number, to: number, open: Uint8Array, next: CellQueue) => void;

/**
 * The fastest expander for a lattice: below 2^31 cells indices are small integers, so axis steps
 * are inlined, and other steps go by class rows in WebAssembly (class-bfs-wasm.ts) up to 3 axes,
 * else by precomputed offsets; past it, the general steps. The class rows rewrite the open bytes
 * (before the search starts: sources already cleared).
 */
function layerExpander(lattice: Lattice, connectivity: Connectivity, tables: AxisTables | null, byClass: ClassBfsWasm | null): LayerExpander {
  if (tables !== null) return (list, from, to, open, next) => axisLayer(tables, list, from, to, open, next);
  if (byClass !== null) {
    byClass.addClasses();
    return (list, from, to, _open, next) => byClass.expand(list, from, to, next);
  }
  const steps = lattice.cells < 2 ** 31 ? new InteriorSteps(lattice, connectivity) : null;
  const around = new Int32Array(steps?.max ?? 0);
  if (steps !== null) return (list, from, to, open, next) => stepLayer(steps, around, list, from, to, open, next);
  const general = new NeighbourSteps(lattice, connectivity);
  const wide = new Float64Array(general.max);
  return (list, from, to, open, next) => stepLayer(general, wide, list, from, to, open, next);
}

/** Steps along the axes, inlined. */
function axisLayer(tables: AxisTables, list: Uint32Array, from: number, to: number, open: Uint8Array, next: CellQueue): void {
  const { d, shape, strides, wrap } = tables;
  for (let k = from; k < to; k++) {
    const cell = list[k]! | 0;
    let rest = cell;
    for (let a = d - 1; a >= 0; a--) {
      const side = shape[a]!;
      const stride = strides[a]!;
      const quotient = (rest / side) | 0;
      const x = rest - quotient * side;
      rest = quotient;
      const down = x > 0 ? cell - stride : wrap[a] === 1 ? cell + (side - 1) * stride : -1;
      if (down >= 0 && open[down] === 1) {
        open[down] = 0;
        next.push(down);
      }
      const up = x < side - 1 ? cell + stride : wrap[a] === 1 ? cell - (side - 1) * stride : -1;
      if (up >= 0 && open[up] === 1) {
        open[up] = 0;
        next.push(up);
      }
    }
  }
}

/** Steps by a neighbour list. */
function stepLayer<A extends Int32Array | Float64Array>(
  steps: { fill(cell: number, out: A): number },
  around: A,
  list: Uint32Array,
  from: number,
  to: number,
  open: Uint8Array,
  next: CellQueue,
): void {
  for (let k = from; k < to; k++) {
    const count = steps.fill(list[k]!, around);
    for (let j = 0; j < count; j++) {
      const neighbour = around[j]!;
      if (open[neighbour] === 1) {
        open[neighbour] = 0;
        next.push(neighbour);
      }
    }
  }
}
