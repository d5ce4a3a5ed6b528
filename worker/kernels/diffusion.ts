/**
 * Explicit heat diffusion on a float32 field (DESIGN.md §2). One step is
 *
 *   v = u + f                          (constant sources f)
 *   u'[i] = v[i] + alpha · Σ (v[j] - v[i])  over the open neighbours j of an open cell i
 *
 * Flux only runs between open neighbours, so blocked cells and the faces of an open lattice
 * insulate, and without sources the total heat stays what it was (up to float32 rounding).
 * Each slab thread updates its own rows, reading its neighbour slabs' edge rows in place (all
 * fields are shared); a barrier separates steps. Blocked cells are materialised into one bit
 * per cell first, since every step reads every cell.
 */
import { fillObstacles } from '../../shared/lattice/bit-slab.ts';
import { blockCellCounts, blockOf, sampleShape } from '../../shared/lattice/field-sample.ts';
import { jobOpenCells } from '../../shared/lattice/job.ts';
import type { DiffusionResult } from '../../shared/lattice/types.ts';
import type { JobControl } from './job-control.ts';
import type { DiffusionTask } from './task.ts';

/** Layout of a slab's summary (Float64): totals, then block sums. */
const SUM_TOTAL = 0;
const SUM_MIN = 1;
const SUM_MAX = 2;
const SUM_OPEN = 3;
/** Float64 slots before the block sums. */
export const SUMMARY_SLOTS = 4;

/** Rows updated between two cancel checks are chosen so that this many cells pass between checks. */
const CHECK_CELLS = 16384;

/** What a slab thread returns; slab 0 adds the result. */
export interface DiffusionSlabOutcome {
  result: Omit<DiffusionResult, 'memory_bytes'> | null;
  bytes: number;
  build_ms: number;
}

export function diffusionSlab(task: DiffusionTask, control: JobControl): DiffusionSlabOutcome {
  const buildStarted = performance.now();
  const { lattice, slabs, slab: me, buffers, params } = task;
  const own = slabs[me]!;
  const blocked = buffers.blocked.map((buffer) => new Int32Array(buffer));
  fillObstacles(blocked[me]!, own, lattice.obstacles, jobOpenCells(params), (done) => {
    control.checkpoint();
    control.publishProgress((0.02 * done) / own.cells);
  });
  const fieldA = buffers.fieldA.map((buffer) => new Float32Array(buffer));
  const fieldB = buffers.fieldB.map((buffer) => new Float32Array(buffer));
  const addHeat = (field: Float32Array, points: typeof params.sources): void => {
    for (const point of points) {
      if (point.index >= own.lo && point.index < own.lo + own.cells) field[point.index - own.lo]! += point.value;
    }
  };
  addHeat(fieldA[me]!, params.initial);
  if (params.steps > 0) addHeat(fieldA[me]!, params.sources);
  const build_ms = performance.now() - buildStarted;
  control.barrier();

  for (let step = 0; step < params.steps; step++) {
    const even = step % 2 === 0;
    const current = even ? fieldA : fieldB;
    const next = even ? fieldB : fieldA;
    stepSlab(task, control, blocked, current, next);
    if (step < params.steps - 1) addHeat(next[me]!, params.sources);
    control.barrier();
    if (me === 0) control.publishProgress((0.98 * (step + 1)) / params.steps);
  }
  const final = params.steps % 2 === 0 ? fieldA : fieldB;
  const sampled = sampleShape(lattice.shape);
  summarise(task, control, blocked[me]!, final[me]!, sampled);
  control.barrier();
  if (me !== 0) return { result: null, bytes: 0, build_ms };
  return { result: combine(task, sampled), bytes: 0, build_ms };
}

/** One explicit step over this slab's rows. */
function stepSlab(
  task: DiffusionTask,
  control: JobControl,
  blocked: Int32Array[],
  current: Float32Array[],
  next: Float32Array[],
): void {
  const { lattice, slabs, slab: me, params } = task;
  const own = slabs[me]!;
  const slabCount = slabs.length;
  const shape = Float64Array.from(lattice.shape);
  const strides = Float64Array.from(lattice.strides);
  const d = shape.length;
  const rowCells = strides[0]!;
  const sideCount = shape[0]!;
  const wrap = lattice.boundary === 'periodic';
  const alpha = params.alpha;
  const bits = blocked[me]!;
  const u = current[me]!;
  const out = next[me]!;
  const coords = new Float64Array(d);
  // The last axis is walked by hand; axis 0 (rows) reads the rows above and below; the axes in
  // between become per-line index offsets. A 1-D lattice has rows of one cell and no line axis.
  const lastAxis = d - 1;
  const lineCells = lastAxis > 0 ? shape[lastAxis]! : 1;
  const wrapLine = wrap && lineCells > 2;
  const lineOffsets = new Float64Array(2 * d);
  const below = (me - 1 + slabCount) % slabCount;
  const above = (me + 1) % slabCount;
  const rowsPerCheck = Math.max(1, Math.floor(CHECK_CELLS / rowCells));

  for (let r = 0; r < own.rows; r++) {
    if (r % rowsPerCheck === 0) control.checkpoint();
    const row = own.row0 + r;
    // Where the rows above and below this one live: this slab, a neighbour slab, or nowhere.
    let downBits: Int32Array | null = null;
    let downField: Float32Array | null = null;
    let downBase = 0;
    if (r > 0) {
      downBits = bits;
      downField = u;
      downBase = (r - 1) * rowCells;
    } else if (row > 0 || (wrap && sideCount > 2)) {
      const slab = slabCount === 1 ? me : below;
      downBits = blocked[slab]!;
      downField = current[slab]!;
      downBase = (slabs[slab]!.rows - 1) * rowCells;
    }
    let upBits: Int32Array | null = null;
    let upField: Float32Array | null = null;
    let upBase = 0;
    if (r < own.rows - 1) {
      upBits = bits;
      upField = u;
      upBase = (r + 1) * rowCells;
    } else if (row < sideCount - 1 || (wrap && sideCount > 2)) {
      const slab = slabCount === 1 ? me : above;
      upBits = blocked[slab]!;
      upField = current[slab]!;
      upBase = 0;
    }
    const rowStart = r * rowCells;
    // Walk the row line by line along the last axis: on one line, whether a neighbour exists
    // along every other axis is fixed, so the inner loop only does the last axis by hand.
    coords.fill(0);
    for (let lineStart = rowStart; lineStart < rowStart + rowCells; lineStart += lineCells) {
      let offsetCount = 0;
      for (let a = 1; a < lastAxis; a++) {
        const side = shape[a]!;
        const stride = strides[a]!;
        const x = coords[a]!;
        if (x > 0) lineOffsets[offsetCount++] = -stride;
        else if (wrap && side > 2) lineOffsets[offsetCount++] = (side - 1) * stride;
        if (x < side - 1) lineOffsets[offsetCount++] = stride;
        else if (wrap && side > 2) lineOffsets[offsetCount++] = -(side - 1) * stride;
      }
      for (let x = 0; x < lineCells; x++) {
        const cell = lineStart + x;
        if (((bits[cell >>> 5]! >>> (cell & 31)) & 1) !== 0) {
          out[cell] = 0;
          continue;
        }
        const value = u[cell]!;
        let flux = 0;
        if (lastAxis > 0) {
          let m = -1;
          if (x > 0) m = cell - 1;
          else if (wrapLine) m = cell + lineCells - 1;
          if (m >= 0 && ((bits[m >>> 5]! >>> (m & 31)) & 1) === 0) flux += u[m]! - value;
          m = -1;
          if (x < lineCells - 1) m = cell + 1;
          else if (wrapLine) m = cell - lineCells + 1;
          if (m >= 0 && ((bits[m >>> 5]! >>> (m & 31)) & 1) === 0) flux += u[m]! - value;
        }
        for (let k = 0; k < offsetCount; k++) {
          const m = cell + lineOffsets[k]!;
          if (((bits[m >>> 5]! >>> (m & 31)) & 1) === 0) flux += u[m]! - value;
        }
        if (downBits !== null) {
          const m = downBase + (cell - rowStart);
          if (((downBits[m >>> 5]! >>> (m & 31)) & 1) === 0) flux += downField![m]! - value;
        }
        if (upBits !== null) {
          const m = upBase + (cell - rowStart);
          if (((upBits[m >>> 5]! >>> (m & 31)) & 1) === 0) flux += upField![m]! - value;
        }
        out[cell] = value + alpha * flux;
      }
      for (let a = lastAxis - 1; a >= 1; a--) {
        if (++coords[a]! < shape[a]!) break;
        coords[a] = 0;
      }
    }
  }
}

/** Writes this slab's totals and block sums into its summary buffer. */
function summarise(task: DiffusionTask, control: JobControl, bits: Int32Array, field: Float32Array, sampled: number[]): void {
  const { lattice, slabs, slab: me, buffers } = task;
  const own = slabs[me]!;
  const { shape } = lattice;
  const d = shape.length;
  const rowCells = lattice.strides[0]!;
  const summary = new Float64Array(buffers.samples[me]!);
  const sampleStrides = new Float64Array(d);
  let stride = 1;
  for (let a = d - 1; a >= 0; a--) {
    sampleStrides[a] = stride;
    stride *= sampled[a]!;
  }
  const coords = new Float64Array(d);
  let total = 0;
  let min = Infinity;
  let max = -Infinity;
  let open = 0;
  const rowsPerCheck = Math.max(1, Math.floor(CHECK_CELLS / rowCells));
  for (let r = 0; r < own.rows; r++) {
    if (r % rowsPerCheck === 0) control.checkpoint();
    const rowBlock = blockOf(own.row0 + r, shape[0]!, sampled[0]!) * sampleStrides[0]!;
    coords.fill(0);
    for (let offset = 0; offset < rowCells; offset++) {
      const cell = r * rowCells + offset;
      if (((bits[cell >>> 5]! >>> (cell & 31)) & 1) === 0) {
        const value = field[cell]!;
        total += value;
        if (value < min) min = value;
        if (value > max) max = value;
        open++;
        let block = rowBlock;
        for (let a = 1; a < d; a++) block += blockOf(coords[a]!, shape[a]!, sampled[a]!) * sampleStrides[a]!;
        summary[SUMMARY_SLOTS + block]! += value;
      }
      for (let a = d - 1; a >= 1; a--) {
        if (++coords[a]! < shape[a]!) break;
        coords[a] = 0;
      }
    }
  }
  summary[SUM_TOTAL] = total;
  summary[SUM_MIN] = min;
  summary[SUM_MAX] = max;
  summary[SUM_OPEN] = open;
}

/** Totals every slab's summary into the result. */
function combine(task: DiffusionTask, sampled: number[]): Omit<DiffusionResult, 'memory_bytes'> {
  const counts = blockCellCounts(task.lattice.shape, sampled);
  const sums = new Float64Array(counts.length);
  let total = 0;
  let min = Infinity;
  let max = -Infinity;
  let open = 0;
  for (const buffer of task.buffers.samples) {
    const summary = new Float64Array(buffer);
    total += summary[SUM_TOTAL]!;
    min = Math.min(min, summary[SUM_MIN]!);
    max = Math.max(max, summary[SUM_MAX]!);
    open += summary[SUM_OPEN]!;
    for (let i = 0; i < sums.length; i++) sums[i]! += summary[SUMMARY_SLOTS + i]!;
  }
  return {
    total_heat: total,
    min: open > 0 ? min : 0,
    max: open > 0 ? max : 0,
    mean: open > 0 ? total / open : 0,
    field: { shape: sampled, values: Array.from(sums, (sum, i) => sum / counts[i]!) },
  };
}
