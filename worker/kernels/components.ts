/**
 * Connected components of the open cells: slab-local labelling by runs, then face merging
 * (docs in worker/kernels/run-labelling.ts).
 *
 * Each slab thread labels its own slab row by row (runs of open cells joined by union-find), so
 * it holds two rows of runs, never a per-cell array. A cluster that touches neither of the
 * slab's face rows is final at once and goes straight into the slab's counts; one that touches a
 * face gets a local id, written on the face cells it covers. After a barrier, slab 0 unions the
 * ids across each pair of touching faces (and across the periodic seam of axis 0) and finishes
 * the counts, in WebAssembly (face-merge.ts) under the `axis` connectivity. Under the `full` connectivity runs join their diagonal neighbours too, in the rows
 * and across the faces.
 */
import type { ComponentsResult } from '../../shared/lattice/types.ts';
import type { JobControl } from './job-control.ts';
import { labellingWasmFits } from '../../shared/lattice/run-labelling-layout.ts';
import { FinishedClusters, HISTOGRAM_BINS, log2Bin } from './finished-clusters.ts';
import { type FaceTotals, faceClusterBases, faceMergeWasmFits, mergeFacesWasm } from './face-merge.ts';
import { FIRST_ROW, LAST_ROW, labelSlabRuns } from './run-labelling.ts';
import { labelSlabRunsWasm } from './run-labelling-wasm.ts';
import { RowNeighbourhood } from './row-neighbourhood.ts';
import type { ComponentsTask } from './task.ts';

export { HISTOGRAM_BINS, log2Bin } from './finished-clusters.ts';

/** Per-slab stats layout (Float64): count, largest, face clusters, then histogram bins. */
const STAT_COUNT = 0;
const STAT_LARGEST = 1;
const STAT_FACE = 2;
const STAT_HISTOGRAM = 3;
/** Float64 slots of a slab's stats. */
export const COMPONENT_STATS_SLOTS = STAT_HISTOGRAM + HISTOGRAM_BINS;

/** Per-slab float slot of the fraction done. */
const DONE = 0;

/** Cells labelled between two cancel checks (whole rows, at least one). */
const CHECK_CELLS = 65536;

/** What a slab thread returns; slab 0 adds the result. */
export interface ComponentsSlabOutcome {
  result: Omit<ComponentsResult, 'memory_bytes'> | null;
  bytes: number;
  build_ms: number;
}

export function componentsSlab(task: ComponentsTask, control: JobControl): ComponentsSlabOutcome {
  const { lattice, slabs, slab: me, buffers } = task;
  const own = slabs[me]!;
  const stats = new Float64Array(buffers.stats[me]!);
  const rowCells = lattice.strides[0]!;
  const rowsPerCheck = Math.max(1, Math.floor(CHECK_CELLS / rowCells));
  const finished = new FinishedClusters();
  const job = {
    lattice,
    lo: own.lo,
    rows: own.rows,
    row0: own.row0,
    faceLabels: new Int32Array(buffers.faceLabels[me]!),
    faceSizes: new Float64Array(buffers.faceSizes[me]!),
    faceFlags: new Uint8Array(buffers.faceFlags[me]!),
    finished,
    full: task.connectivity === 'full',
    tick: (rowsDone: number) => {
      if (rowsDone % rowsPerCheck !== 0) return;
      control.checkpoint();
      control.floats[control.slabSlot(me, DONE)] = rowsDone / own.rows;
      control.publishProgress(0.95 * (control.sumSlabs(DONE) / slabs.length));
    },
  };
  // The `full` connectivity comes here only when its WebAssembly layout fits (kernel-pool.ts).
  const labelled = job.full || labellingWasmFits(lattice.shape) ? labelSlabRunsWasm(job) : labelSlabRuns(job);
  stats[STAT_COUNT] = finished.count;
  stats[STAT_LARGEST] = finished.largest;
  stats.set(finished.histogram, STAT_HISTOGRAM);
  stats[STAT_FACE] = labelled.faceCount;
  control.floats[control.slabSlot(me, DONE)] = 1;
  control.barrier();
  if (me !== 0) return { result: null, bytes: labelled.bytes, build_ms: 0 };
  const merged = mergeFaces(task);
  return { result: merged.result, bytes: labelled.bytes + merged.bytes, build_ms: 0 };
}

/** Unions face clusters across touching slab faces and totals every slab's counts. */
function mergeFaces(task: ComponentsTask): { result: Omit<ComponentsResult, 'memory_bytes'>; bytes: number } {
  const stats = task.buffers.stats.map((buffer) => new Float64Array(buffer));
  const faceCounts = stats.map((slab) => slab[STAT_FACE]!);
  const faces = faceMergeWasmFits(task.lattice, task.slabs, task.connectivity === 'full') ? mergeFacesWasm(task, faceCounts) : mergeFacesJs(task, faceCounts);
  const histogram = Array.from(faces.histogram);
  let count = faces.count;
  let largest = faces.largest;
  for (const slab of stats) {
    count += slab[STAT_COUNT]!;
    largest = Math.max(largest, slab[STAT_LARGEST]!);
    for (let k = 0; k < HISTOGRAM_BINS; k++) histogram[k]! += slab[STAT_HISTOGRAM + k]!;
  }
  while (histogram.length > 0 && histogram[histogram.length - 1] === 0) histogram.pop();
  return { result: { count, largest, histogram, spans_axis0: faces.spans }, bytes: faces.bytes };
}

/** `mergeFacesWasm` in JavaScript: the `full` connectivity, and faces too large for the module (exported for its test). */
export function mergeFacesJs(task: ComponentsTask, faceCounts: readonly number[]): FaceTotals {
  const { lattice, slabs, buffers } = task;
  const rowCells = lattice.strides[0]!;
  const slabCount = slabs.length;
  const { base, total } = faceClusterBases(faceCounts.slice(0, slabCount));
  const parent = new Int32Array(total);
  for (let i = 0; i < total; i++) parent[i] = i;
  const find = (i: number): number => {
    let root = i;
    while (parent[root] !== root) root = parent[root]!;
    while (parent[i] !== root) {
      const up = parent[i]!;
      parent[i] = root;
      i = up;
    }
    return root;
  };
  const labels = buffers.faceLabels.map((buffer) => new Int32Array(buffer));
  // Under `full`, a face cell touches the cells around it on the other face, not only its own.
  const around = task.connectivity === 'full' ? new RowNeighbourhood(lattice) : null;
  const join = (lower: number, upper: number): void => {
    // The last row of slab `lower` touches the first row of slab `upper`.
    const last = labels[lower]!;
    const first = labels[upper]!;
    for (let offset = 0; offset < rowCells; offset++) {
      const a = last[rowCells + offset]!;
      if (a === 0) continue;
      const count = around === null ? 1 : around.fill(offset);
      for (let j = 0; j < count; j++) {
        const b = first[around === null ? offset : around.cells[j]!]!;
        if (b === 0) continue;
        const ra = find(base[lower]! + a - 1);
        const rb = find(base[upper]! + b - 1);
        if (ra !== rb) parent[ra] = rb;
      }
    }
  };
  for (let t = 0; t + 1 < slabCount; t++) join(t, t + 1);
  // The periodic seam of axis 0 (a side of 2 or less is adjacent already, or has no seam).
  if (lattice.boundary === 'periodic' && lattice.shape[0]! > 2) join(slabCount - 1, 0);

  const rootSize = new Float64Array(total);
  const rootFlags = new Uint8Array(total);
  for (let t = 0; t < slabCount; t++) {
    const sizes = new Float64Array(buffers.faceSizes[t]!);
    const flags = new Uint8Array(buffers.faceFlags[t]!);
    for (let id = 0; id < faceCounts[t]!; id++) {
      const root = find(base[t]! + id);
      rootSize[root]! += sizes[id]!;
      rootFlags[root]! |= flags[id]!;
    }
  }
  const histogram = new Array<number>(HISTOGRAM_BINS).fill(0);
  let count = 0;
  let largest = 0;
  let spans = false;
  for (let i = 0; i < total; i++) {
    if (parent[i] !== i) continue;
    count++;
    largest = Math.max(largest, rootSize[i]!);
    histogram[log2Bin(rootSize[i]!)]!++;
    if (rootFlags[i] === (FIRST_ROW | LAST_ROW)) spans = true;
  }
  return { count, largest, histogram, spans, bytes: parent.byteLength + rootSize.byteLength + rootFlags.byteLength };
}
