/**
 * Connected components of the open cells: slab-local labelling by runs, then face merging
 * (docs in worker/kernels/run-labelling.ts).
 *
 * Each slab thread labels its slab row by row (runs of open cells joined by union-find), so it
 * holds two rows of runs, never a per-cell array. Under the WebAssembly labelling two slab threads
 * share a pair of slabs' rows, one labelling upwards and one downwards, a row at a time, until they
 * meet (`slabRows`): a thread slowed by another process on its core labels fewer rows. A cluster that touches neither of the
 * slab's face rows is final at once and goes straight into the slab's counts; one that touches a
 * face gets a local id, written on the face cells it covers. The slab thread that finishes last unions the
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
import { zeroShared } from './shared-buffer-pool.ts';
import type { ComponentsTask } from './task.ts';
import { mark } from './timeline-marks.ts';

export { HISTOGRAM_BINS, log2Bin } from './finished-clusters.ts';

/** Per-slab stats layout (Float64): count, largest, face clusters, the rows labelled, then histogram bins. */
const STAT_COUNT = 0;
const STAT_LARGEST = 1;
const STAT_FACE = 2;
/** The first row labelled, how many, and the direction (1 or -1). */
const STAT_FIRST_ROW = 3;
const STAT_ROWS = 4;
const STAT_STEP = 5;
const STAT_HISTOGRAM = 6;
/** Float64 slots of a slab's stats. */
export const COMPONENT_STATS_SLOTS = STAT_HISTOGRAM + HISTOGRAM_BINS;

/** Per-slab float slot of the rows labelled so far. */
const DONE = 0;

/** Cells labelled between two cancel checks (whole rows, at least one). */
const CHECK_CELLS = 65536;

/** What a slab thread returns; the one that merged adds the result. */
export interface ComponentsSlabOutcome {
  result: Omit<ComponentsResult, 'memory_bytes'> | null;
  bytes: number;
  build_ms: number;
}

/** Which rows a slab thread labels: from `row0` by `step`, at most `rows`, each only when `claim` (if any) allows. */
export interface SlabRows {
  row0: number;
  step: 1 | -1;
  rows: number;
  claim?: () => boolean;
}

/**
 * The rows slab `task.slab` labels. Under the WebAssembly labelling slabs 2k and 2k + 1 share
 * their rows: the first labels upwards from the pair's first row, the second downwards from its
 * last, each claiming one row at a time, so the two meet wherever their threads' speeds put them
 * (a thread that shares its core, or runs slower, labels fewer rows; equal halves made the run
 * wait for the slower one). An odd count's last slab, and the JavaScript labelling, label their own rows.
 */
export function slabRows(task: ComponentsTask, wasm: boolean): SlabRows {
  const { slabs, slab: me } = task;
  const own = slabs[me]!;
  const first = me - (me % 2);
  if (!wasm || first + 1 >= slabs.length) return { row0: own.row0, step: 1, rows: own.rows };
  const lower = slabs[first]!;
  const upper = slabs[first + 1]!;
  const rows = upper.row1 - lower.row0;
  const claimed = new Int32Array(task.buffers.claims[first]!);
  const claim = (): boolean => Atomics.add(claimed, 0, 1) < rows;
  return me === first ? { row0: lower.row0, step: 1, rows, claim } : { row0: upper.row1 - 1, step: -1, rows, claim };
}

/** Whether a run labels in WebAssembly (the `full` connectivity comes here only when its layout fits: kernel-pool.ts). */
function labelsInWasm(task: ComponentsTask): boolean {
  return task.connectivity === 'full' || labellingWasmFits(task.lattice.shape);
}

export function componentsSlab(task: ComponentsTask, control: JobControl): ComponentsSlabOutcome {
  const { lattice, slab: me } = task;
  const rowsPerCheck = Math.max(1, Math.floor(CHECK_CELLS / lattice.strides[0]!));
  const slot = control.slabSlot(me, DONE);
  const tick = (rowsDone: number): void => {
    if (rowsDone % rowsPerCheck !== 0) return;
    control.checkpoint();
    control.floats[slot] = rowsDone;
    control.publishProgress((0.95 * control.sumSlabs(DONE)) / lattice.shape[0]!);
  };
  const labelled = labelRows(task, slabRows(task, labelsInWasm(task)), tick);
  control.floats[slot] = labelled.rows;
  // The thread that finishes last merges, at once: the others return without waiting, so no
  // thread sleeps at a barrier and has to be woken (and get a core back) for the merge.
  const last = control.arriveLast();
  mark(last ? 'arrive-last' : 'arrive-first');
  if (!last) return { result: null, bytes: labelled.bytes, build_ms: 0 };
  const merged = mergeFaces(task);
  mark('merged');
  return { result: merged.result, bytes: labelled.bytes + merged.bytes, build_ms: 0 };
}

/**
 * Labels slab `task.slab`'s rows as `plan` says, into its face buffers and stats (the rows it
 * labelled among them, for the merge); returns the face clusters, the bytes allocated and the rows labelled.
 */
export function labelRows(task: ComponentsTask, plan: SlabRows, tick: (rowsDone: number) => void = () => undefined): { faceCount: number; bytes: number; rows: number } {
  const { lattice, slab: me, buffers } = task;
  const stats = new Float64Array(buffers.stats[me]!);
  // Kept face buffers hold the last run's bytes (another tenant's): zeroed here, by this slab's thread alone.
  if (buffers.dirtyFaces?.[me] === true) {
    for (const buffer of [buffers.faceLabels[me]!, buffers.faceSizes[me]!, buffers.faceFlags[me]!]) zeroShared(buffer);
  }
  mark('zeroed');
  const finished = new FinishedClusters();
  const job = {
    lattice,
    lo: plan.row0 * lattice.strides[0]!,
    rows: plan.rows,
    row0: plan.row0,
    step: plan.step,
    ...(plan.claim ? { claim: plan.claim } : {}),
    faceLabels: new Int32Array(buffers.faceLabels[me]!),
    faceSizes: new Float64Array(buffers.faceSizes[me]!),
    faceFlags: new Uint8Array(buffers.faceFlags[me]!),
    finished,
    full: task.connectivity === 'full',
    tick,
  };
  const labelled = labelsInWasm(task) ? labelSlabRunsWasm(job) : { ...labelSlabRuns(job), rows: plan.rows };
  stats[STAT_COUNT] = finished.count;
  stats[STAT_LARGEST] = finished.largest;
  stats.set(finished.histogram, STAT_HISTOGRAM);
  stats[STAT_FACE] = labelled.faceCount;
  stats[STAT_FIRST_ROW] = plan.row0;
  stats[STAT_ROWS] = labelled.rows;
  stats[STAT_STEP] = plan.step;
  return labelled;
}

/** The rows a slab labelled: from `first`, `rows` of them, upwards (`step` 1) or downwards (-1). */
export interface LabelledRows {
  first: number;
  rows: number;
  step: number;
}

/**
 * Two touching faces: slab `lower`'s face row starting at cell `lowerAt` of its face labels (0:
 * the first row it labelled, the row's cells: its last) lies just below slab `upper`'s at `upperAt`.
 */
export interface FaceJoin {
  lower: number;
  lowerAt: number;
  upper: number;
  upperAt: number;
}

/**
 * The faces that touch, from the rows each slab labelled: slabs sorted by their lowest row, each
 * one's highest face against the next one's lowest, and the periodic seam of axis 0 (a side of 2
 * or less is adjacent already, or has no seam); a slab that labelled no row has no face.
 */
export function faceJoins(lattice: Pick<ComponentsTask['lattice'], 'shape' | 'strides' | 'boundary'>, labelled: readonly LabelledRows[]): FaceJoin[] {
  const rowCells = lattice.strides[0]!;
  const spans: Array<{ slab: number; low: number; lowAt: number; highAt: number }> = [];
  labelled.forEach(({ first, rows, step }, slab) => {
    if (rows === 0) return;
    const up = step > 0;
    spans.push({ slab, low: up ? first : first - rows + 1, lowAt: up ? 0 : rowCells, highAt: up ? rowCells : 0 });
  });
  spans.sort((a, b) => a.low - b.low);
  const joins: FaceJoin[] = [];
  for (let k = 0; k + 1 < spans.length; k++) joins.push({ lower: spans[k]!.slab, lowerAt: spans[k]!.highAt, upper: spans[k + 1]!.slab, upperAt: spans[k + 1]!.lowAt });
  const top = spans[spans.length - 1];
  if (lattice.boundary === 'periodic' && lattice.shape[0]! > 2 && top !== undefined) {
    joins.push({ lower: top.slab, lowerAt: top.highAt, upper: spans[0]!.slab, upperAt: spans[0]!.lowAt });
  }
  return joins;
}

/** Unions face clusters across touching slab faces and totals every slab's counts. */
export function mergeFaces(task: ComponentsTask): { result: Omit<ComponentsResult, 'memory_bytes'>; bytes: number } {
  const stats = task.buffers.stats.map((buffer) => new Float64Array(buffer));
  const faceCounts = stats.map((slab) => slab[STAT_FACE]!);
  const joins = faceJoins(
    task.lattice,
    stats.map((slab) => ({ first: slab[STAT_FIRST_ROW]!, rows: slab[STAT_ROWS]!, step: slab[STAT_STEP]! })),
  );
  const faces = faceMergeWasmFits(task.lattice, task.slabs, task.connectivity === 'full') ? mergeFacesWasm(task, faceCounts, joins) : mergeFacesJs(task, faceCounts, joins);
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
export function mergeFacesJs(task: ComponentsTask, faceCounts: readonly number[], joins: readonly FaceJoin[]): FaceTotals {
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
  for (const { lower, lowerAt, upper, upperAt } of joins) {
    const below = labels[lower]!;
    const above = labels[upper]!;
    for (let offset = 0; offset < rowCells; offset++) {
      const a = below[lowerAt + offset]!;
      if (a === 0) continue;
      const count = around === null ? 1 : around.fill(offset);
      for (let j = 0; j < count; j++) {
        const b = above[upperAt + (around === null ? offset : around.cells[j]!)]!;
        if (b === 0) continue;
        const ra = find(base[lower]! + a - 1);
        const rb = find(base[upper]! + b - 1);
        if (ra !== rb) parent[ra] = rb;
      }
    }
  }

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
