/**
 * Connected components of the open cells: slab-local labelling, then face merging (DESIGN.md §2).
 *
 * Each slab thread flood-fills its own slab with one bit per cell (blocked or labelled). A
 * cluster that touches neither of the slab's face rows is final at once and goes straight into
 * the slab's counts; one that touches a face gets a local id, written on the face cells it
 * covers. After a barrier, slab 0 unions the ids across each pair of touching faces and
 * finishes the counts. So memory is one bit per cell plus two rows of labels per slab.
 */
import { presetExplicitObstacles } from '../../shared/lattice/bit-slab.ts';
import { lowbias32 } from '../../shared/lattice/lowbias32.ts';
import type { ComponentsResult } from '../../shared/lattice/types.ts';
import { CellQueue } from './cell-queue.ts';
import type { JobControl } from './job-control.ts';
import { rowFlags } from './row-flags.ts';
import type { ComponentsTask } from './task.ts';

/** Per-slab stats layout (Float64): count, largest, face clusters, then histogram bins. */
const STAT_COUNT = 0;
const STAT_LARGEST = 1;
const STAT_FACE = 2;
const STAT_HISTOGRAM = 3;
/** Bins of the log2 histogram: sizes reach 2^32. */
export const HISTOGRAM_BINS = 33;
/** Float64 slots of a slab's stats. */
export const COMPONENT_STATS_SLOTS = STAT_HISTOGRAM + HISTOGRAM_BINS;

/** Face flags: the cluster has a cell on the first, or the last, row of axis 0. */
const FIRST_ROW = 1;
const LAST_ROW = 2;

/** Per-slab float slot of the fraction done. */
const DONE = 0;

/** Cells scanned between two cancel checks. */
const CHECK_EVERY = 8192;

/** What a slab thread returns; slab 0 adds the result. */
export interface ComponentsSlabOutcome {
  result: Omit<ComponentsResult, 'memory_bytes'> | null;
  bytes: number;
  build_ms: number;
}

/** floor(log2(size)) for sizes up to 2^32. */
export function log2Bin(size: number): number {
  return size >= 2 ** 32 ? 32 : 31 - Math.clz32(size);
}

export function componentsSlab(task: ComponentsTask, control: JobControl): ComponentsSlabOutcome {
  const buildStarted = performance.now();
  const { lattice, slabs, slab: me, buffers } = task;
  const own = slabs[me]!;
  const marks = new Int32Array(buffers.marks[me]!);
  if (lattice.obstacles.kind === 'explicit') presetExplicitObstacles(marks, own, lattice.obstacles.blocked, []);
  const build_ms = performance.now() - buildStarted;

  const stats = new Float64Array(buffers.stats[me]!);
  const queue = new CellQueue();
  const tableBytes = labelSlab(task, control, marks, stats, queue);
  control.floats[control.slabSlot(me, DONE)] = 1;
  control.barrier();
  const bytes = queue.bytes + tableBytes;
  if (me !== 0) return { result: null, bytes, build_ms };
  const merged = mergeFaces(task);
  return { result: merged.result, bytes: bytes + merged.bytes, build_ms };
}

/** Labels one slab; returns the bytes of the tables it allocated. */
function labelSlab(task: ComponentsTask, control: JobControl, marks: Int32Array, stats: Float64Array, queue: CellQueue): number {
  const { lattice, slabs, slab: me, buffers } = task;
  const own = slabs[me]!;
  const { lo, cells, rows } = own;
  const shape = Float64Array.from(lattice.shape);
  const strides = Float64Array.from(lattice.strides);
  const d = shape.length;
  const rowCells = strides[0]!;
  const sideCount = shape[0]!;
  const wrap = lattice.boundary === 'periodic';
  // The axis-0 wrap stays inside the slab only when there is one slab.
  const wrapRows = wrap && sideCount > 2 && slabs.length === 1;
  const firstRowFlag = own.row0 === 0 ? FIRST_ROW : 0;
  const lastRowFlag = own.row1 === sideCount ? LAST_ROW : 0;
  const obstacles = lattice.obstacles;
  const procedural = obstacles.kind === 'procedural';
  const threshold = procedural ? obstacles.threshold : 0;
  const offset = procedural ? obstacles.offset : 0;
  const faceLabels = new Int32Array(buffers.faceLabels[me]!);
  const faceSizes = new Float64Array(buffers.faceSizes[me]!);
  const faceFlags = new Uint8Array(buffers.faceFlags[me]!);
  const lastRowStart = (rows - 1) * rowCells;
  const rowFaces = rowFlags(lattice);
  const wrapAxis = Uint8Array.from(shape, (side) => (wrap && side > 2 ? 1 : 0));
  const steps = new Float64Array(2 * d);

  let count = 0;
  let largest = 0;
  let faceCount = 0;

  /** Claims an unmarked cell: false if blocked (now marked as such), true if open (now labelled). */
  const claim = (cell: number): boolean => {
    const word = cell >>> 5;
    const bit = 1 << (cell & 31);
    if ((marks[word]! & bit) !== 0) return false;
    marks[word]! |= bit;
    return !(procedural && lowbias32((lo + cell + offset) >>> 0) < threshold);
  };

  for (let seed = 0; seed < cells; seed++) {
    if (seed % CHECK_EVERY === 0) {
      control.checkpoint();
      control.floats[control.slabSlot(me, DONE)] = seed / cells;
      control.publishProgress(0.95 * (control.sumSlabs(DONE) / slabs.length));
    }
    if (!claim(seed)) continue;
    const id = faceCount;
    let size = 0;
    let flags = 0;
    let touchesFace = false;
    queue.clear();
    queue.push(seed);
    while (queue.head < queue.length) {
      const cell = queue.shift();
      size++;
      if (cell < rowCells) {
        faceLabels[cell] = id + 1;
        touchesFace = true;
        flags |= firstRowFlag;
      }
      if (cell >= lastRowStart) {
        faceLabels[rowCells + cell - lastRowStart] = id + 1;
        touchesFace = true;
        flags |= lastRowFlag;
      }
      // Gather the neighbours, then claim them in one loop (one inlined copy of the claim).
      const row = Math.floor(cell / rowCells);
      const faces = rowFaces[cell - row * rowCells]!;
      let count = 0;
      for (let a = 1; a < d; a++) {
        const stride = strides[a]!;
        const at = faces >> (2 * (a - 1));
        if ((at & 1) === 0) steps[count++] = cell - stride;
        else if (wrapAxis[a] === 1) steps[count++] = cell + (shape[a]! - 1) * stride;
        if ((at & 2) === 0) steps[count++] = cell + stride;
        else if (wrapAxis[a] === 1) steps[count++] = cell - (shape[a]! - 1) * stride;
      }
      if (row > 0) steps[count++] = cell - rowCells;
      else if (wrapRows) steps[count++] = cell + (sideCount - 1) * rowCells;
      if (row < rows - 1) steps[count++] = cell + rowCells;
      else if (wrapRows) steps[count++] = cell - (sideCount - 1) * rowCells;
      for (let k = 0; k < count; k++) {
        const next = steps[k]!;
        const word = next >>> 5;
        const bit = 1 << (next & 31);
        if ((marks[word]! & bit) !== 0) continue;
        marks[word]! |= bit;
        if (procedural && lowbias32((lo + next + offset) >>> 0) < threshold) continue;
        queue.push(next);
      }
      if (size % CHECK_EVERY === 0) control.checkpoint();
    }
    if (touchesFace) {
      faceSizes[id] = size;
      faceFlags[id] = flags;
      faceCount++;
    } else {
      count++;
      if (size > largest) largest = size;
      stats[STAT_HISTOGRAM + log2Bin(size)]!++;
    }
  }
  stats[STAT_COUNT] = count;
  stats[STAT_LARGEST] = largest;
  stats[STAT_FACE] = faceCount;
  return rowFaces.byteLength + steps.byteLength;
}

/** Unions face clusters across touching slab faces and totals every slab's counts. */
function mergeFaces(task: ComponentsTask): { result: Omit<ComponentsResult, 'memory_bytes'>; bytes: number } {
  const { lattice, slabs, buffers } = task;
  const rowCells = lattice.strides[0]!;
  const slabCount = slabs.length;
  const stats = buffers.stats.map((buffer) => new Float64Array(buffer));
  const base: number[] = [];
  let total = 0;
  for (let t = 0; t < slabCount; t++) {
    base.push(total);
    total += stats[t]![STAT_FACE]!;
  }
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
  const join = (lower: number, upper: number): void => {
    // The last row of slab `lower` touches the first row of slab `upper`.
    const last = labels[lower]!;
    const first = labels[upper]!;
    for (let offset = 0; offset < rowCells; offset++) {
      const a = last[rowCells + offset]!;
      const b = first[offset]!;
      if (a !== 0 && b !== 0) {
        const ra = find(base[lower]! + a - 1);
        const rb = find(base[upper]! + b - 1);
        if (ra !== rb) parent[ra] = rb;
      }
    }
  };
  for (let t = 0; t + 1 < slabCount; t++) join(t, t + 1);
  if (slabCount > 1 && lattice.boundary === 'periodic') join(slabCount - 1, 0);

  const rootSize = new Float64Array(total);
  const rootFlags = new Uint8Array(total);
  for (let t = 0; t < slabCount; t++) {
    const sizes = new Float64Array(buffers.faceSizes[t]!);
    const flags = new Uint8Array(buffers.faceFlags[t]!);
    for (let id = 0; id < stats[t]![STAT_FACE]!; id++) {
      const root = find(base[t]! + id);
      rootSize[root]! += sizes[id]!;
      rootFlags[root]! |= flags[id]!;
    }
  }
  const histogram = new Array<number>(HISTOGRAM_BINS).fill(0);
  let count = 0;
  let largest = 0;
  let spans = false;
  for (let t = 0; t < slabCount; t++) {
    count += stats[t]![STAT_COUNT]!;
    largest = Math.max(largest, stats[t]![STAT_LARGEST]!);
    for (let k = 0; k < HISTOGRAM_BINS; k++) histogram[k]! += stats[t]![STAT_HISTOGRAM + k]!;
  }
  for (let i = 0; i < total; i++) {
    if (parent[i] !== i) continue;
    count++;
    largest = Math.max(largest, rootSize[i]!);
    histogram[log2Bin(rootSize[i]!)]!++;
    if (rootFlags[i] === (FIRST_ROW | LAST_ROW)) spans = true;
  }
  while (histogram.length > 0 && histogram[histogram.length - 1] === 0) histogram.pop();
  return {
    result: { count, largest, histogram, spans_axis0: spans },
    bytes: parent.byteLength + rootSize.byteLength + rootFlags.byteLength,
  };
}
