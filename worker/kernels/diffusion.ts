/**
 * Explicit heat diffusion on a float32 field, one step being
 *   v = u + f; u'[i] = v[i] + alpha · Σ (v[j] - v[i]) over the open neighbours j of an open cell i,
 * run by slab threads on conductance codes with the WebAssembly stencil (diffusion-wasm.ts) or the
 * JavaScript one (diffusion-stencil.ts); between steps the WebAssembly slabs wait only for their
 * neighbours' face rows, the JavaScript ones at a barrier. See docs/architecture.md › Kernels.
 */
import { blockCellCounts, blockOf, sampleShape } from './field-sample.ts';
import { jobOpenCells } from '../../shared/lattice/job.ts';
import type { DiffusionResult } from '../../shared/lattice/types.ts';
import { BLOCKED, conductanceCodes, stencilWeights } from './conductance-codes.ts';
import { stepSlab } from './diffusion-stencil.ts';
import { WasmStencil, wasmStencilFits } from './diffusion-wasm.ts';
import type { JobControl } from './job-control.ts';
import type { DiffusionTask } from './task.ts';
import { mark } from './timeline-marks.ts';

/** Layout of a slab's summary (Float64): totals, then block sums. */
const SUM_TOTAL = 0;
const SUM_MIN = 1;
const SUM_MAX = 2;
const SUM_OPEN = 3;
/** Float64 slots before the block sums. */
export const SUMMARY_SLOTS = 4;

/** Cells passed between two cancel checks (whole rows, at least one). */
const CHECK_CELLS = 65536;

/** What a slab thread returns; the one that finishes last adds the result. */
export interface DiffusionSlabOutcome {
  result: Omit<DiffusionResult, 'memory_bytes'> | null;
  bytes: number;
  build_ms: number;
}

export function diffusionSlab(task: DiffusionTask, control: JobControl): DiffusionSlabOutcome {
  const buildStarted = performance.now();
  mark(`slab${task.slab}`);
  // The SIMD stencil builds the codes in its own memory; the JavaScript one is for 1-D lattices
  // and slabs too large for a WebAssembly memory.
  const wasm = wasmStencilFits(task.lattice, task.slabs) ? new WasmStencil(task.lattice, task.slabs[task.slab]!) : null;
  mark('taken');
  try {
    return runSlab(task, control, wasm, buildStarted);
  } finally {
    // Cancelled or done: the thread's next run may reuse the instance's mapped pages.
    wasm?.release();
  }
}

function runSlab(task: DiffusionTask, control: JobControl, wasm: WasmStencil | null, buildStarted: number): DiffusionSlabOutcome {
  const { lattice, slabs, slab: me, buffers, params } = task;
  const own = slabs[me]!;
  const rowCells = lattice.strides[0]!;
  const rowsPerCheck = Math.max(1, Math.floor(CHECK_CELLS / rowCells));
  const tickBuild = (rows: number): void => {
    if (rows % rowsPerCheck !== 0) return;
    control.checkpoint();
    control.publishProgress((0.02 * rows) / own.rows);
  };
  let built: { codes: Uint8Array; bytes: number };
  if (wasm === null) built = conductanceCodes(lattice, own, jobOpenCells(params), tickBuild);
  else {
    wasm.buildCodes(lattice, own, jobOpenCells(params), tickBuild);
    built = { codes: wasm.codes, bytes: 0 };
  }
  const codes = built.codes;
  const addHeat = (field: Float32Array, points: typeof params.sources): void => {
    for (const point of points) {
      if (point.index >= own.lo && point.index < own.lo + own.cells) field[point.index - own.lo]! += point.value;
    }
  };
  const tick = (row: number): void => {
    if (row % rowsPerCheck === 0) control.checkpoint();
  };
  // A step takes milliseconds: waiters sleep at once rather than poll (the JavaScript stencil).
  const barrier = (): void => {
    mark('x-in');
    control.barrier(0);
    mark('x-out');
  };
  let scratchBytes = 0;
  if (wasm !== null) {
    // The field lives in the instance's memory, stepped in place; only face rows cross between slabs.
    const faces = buffers.faces.map((buffer) => new Float32Array(buffer));
    const field = wasm.field();
    addHeat(field, params.initial);
    if (params.steps > 0) addHeat(field, params.sources);
    const build_ms = performance.now() - buildStarted;
    mark('built');
    // No barrier between steps: a slab waits only for the two face rows it reads, each as soon as
    // its neighbour has written it. On 3 or more axes the even slabs step downwards and the odd
    // ones upwards, so the face a pair shares is among the first rows either computes (and is
    // written out then), and each thread of a pair can run up to a step ahead of the other
    // rather than both waiting at every step for the slower one.
    const down = lattice.shape.length >= 3 && slabs.length > 1 && me % 2 === 0;
    const earlySide: 0 | 1 = down ? 1 : 0;
    const earlyRow = down ? own.rows - 1 : 0;
    const rowCells = lattice.strides[0]!;
    // A face written before the step's sources are added carries them (addHeat's order and rounding).
    const pendingOf = ([0, own.rows - 1] as const).map((row) =>
      params.sources.filter((p) => p.index >= own.lo + row * rowCells && p.index < own.lo + (row + 1) * rowCells).map((p) => ({ at: p.index - own.lo - row * rowCells, value: p.value })),
    );
    const stencil = wasm;
    const publish = (side: 0 | 1, round: number): void => {
      stencil.publishFace(faces, me, round, side, round > 0 ? pendingOf[side]! : []);
      control.publishSlabInt(me, side, round + 1);
    };
    publish(0, 0);
    publish(1, 0);
    for (let step = 0; step < params.steps; step++) {
      const round = step;
      wasm.takeHalos(lattice, slabs, me, faces, round, (slab, side) => {
        mark('x-in');
        control.awaitSlabInt(slab, side, round + 1);
        mark('x-out');
      });
      const more = step < params.steps - 1;
      let early = false;
      const final =
        more && lattice.shape.length >= 3
          ? (row: number): void => {
              if (row !== earlyRow) return;
              publish(earlySide, step + 1);
              early = true;
            }
          : undefined;
      wasm.step(lattice, params.alpha, tick, rowsPerCheck, down, final);
      mark('stepped');
      if (more) {
        if (!early) publish(earlySide, step + 1);
        publish(earlySide === 0 ? 1 : 0, step + 1);
        addHeat(field, params.sources);
      }
      if (me === 0) control.publishProgress((0.98 * (step + 1)) / params.steps);
    }
    return finish(task, control, codes, field, built.bytes + wasm.bytes, build_ms, wasm);
  }
  const fieldA = buffers.fieldA.map((buffer) => new Float32Array(buffer));
  const fieldB = buffers.fieldB.map((buffer) => new Float32Array(buffer));
  addHeat(fieldA[me]!, params.initial);
  if (params.steps > 0) addHeat(fieldA[me]!, params.sources);
  const lineCells = lattice.shape.length > 1 ? lattice.shape[lattice.shape.length - 1]! : 1;
  const scratch = new Float64Array(lineCells);
  scratchBytes = scratch.byteLength;
  const build_ms = performance.now() - buildStarted;
  control.barrier();

  const stencil = { lattice, slabs, me, codes, weights: stencilWeights(params.alpha), tick };
  for (let step = 0; step < params.steps; step++) {
    const even = step % 2 === 0;
    const current = even ? fieldA : fieldB;
    const next = even ? fieldB : fieldA;
    stepSlab(stencil, current, next[me]!, scratch);
    if (step < params.steps - 1) addHeat(next[me]!, params.sources);
    barrier();
    if (me === 0) control.publishProgress((0.98 * (step + 1)) / params.steps);
  }
  const finalField = (params.steps % 2 === 0 ? fieldA : fieldB)[me]!;
  return finish(task, control, codes, finalField, built.bytes + scratchBytes, build_ms);
}

/** Summarises this slab's final field and, in the thread that does so last, combines the result. */
function finish(
  task: DiffusionTask,
  control: JobControl,
  codes: Uint8Array,
  field: Float32Array,
  bytes: number,
  build_ms: number,
  wasm: WasmStencil | null = null,
): DiffusionSlabOutcome {
  const sampled = sampleShape(task.lattice.shape);
  // The whole field leaves the thread only when asked for: WebAssembly memory is not shared.
  const kept = task.buffers.kept?.[task.slab];
  if (kept) new Float32Array(kept).set(field.subarray(0, task.slabs[task.slab]!.cells));
  summarise(task, control, codes, field, sampled, wasm);
  mark('fin-in');
  // The thread that finishes last combines, at once: no thread sleeps at a barrier to be woken for it.
  const last = control.arriveLast();
  mark('fin-out');
  if (!last) return { result: null, bytes, build_ms };
  const result = combine(task, sampled);
  mark('combined');
  return { result, bytes, build_ms };
}
/**
 * Writes this slab's totals and block sums into its summary buffer; a line's block sums in the
 * WebAssembly instance when the field is there (SIMD: about 10x the loop below).
 */
function summarise(task: DiffusionTask, control: JobControl, codes: Uint8Array, field: Float32Array, sampled: number[], wasm: WasmStencil | null): void {
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
  // Along a line only the last axis's block changes: its blocks are runs of x, block j ending
  // before ends[j]; each run is summed apart and added to its block once.
  const lineCells = d > 1 ? shape[d - 1]! : 1;
  const lastBlocks = d > 1 ? sampled[d - 1]! : 1;
  const lastStride = d > 1 ? sampleStrides[d - 1]! : 0;
  const ends = new Int32Array(lastBlocks);
  for (let x = 0; x < lineCells; x++) ends[d > 1 ? blockOf(x, lineCells, lastBlocks) : 0] = x + 1;
  const coords = new Float64Array(d);
  let total = 0;
  let min = Infinity;
  let max = -Infinity;
  let open = 0;
  const rowsPerCheck = Math.max(1, Math.floor(CHECK_CELLS / rowCells));
  wasm?.startSummary(ends);
  for (let r = 0; r < own.rows; r++) {
    if (r % rowsPerCheck === 0) control.checkpoint();
    const rowBlock = blockOf(own.row0 + r, shape[0]!, sampled[0]!) * sampleStrides[0]!;
    coords.fill(0);
    for (let at = 0; at < rowCells; at += lineCells) {
      let lineBlock = SUMMARY_SLOTS + rowBlock;
      for (let a = 1; a < d - 1; a++) lineBlock += blockOf(coords[a]!, shape[a]!, sampled[a]!) * sampleStrides[a]!;
      const c0 = r * rowCells + at;
      const sums = wasm?.lineSums(c0);
      let x = 0;
      for (let j = 0; j < lastBlocks; j++) {
        let sum = 0;
        if (sums !== undefined) sum = sums[j]!;
        else {
          for (const end = ends[j]!; x < end; x++) {
            if ((codes[c0 + x]! & BLOCKED) !== 0) continue;
            const value = field[c0 + x]!;
            sum += value;
            if (value < min) min = value;
            if (value > max) max = value;
            open++;
          }
        }
        total += sum;
        summary[lineBlock + j * lastStride]! += sum;
      }
      for (let a = d - 2; a >= 1; a--) {
        if (++coords[a]! < shape[a]!) break;
        coords[a] = 0;
      }
    }
  }
  if (wasm !== null) {
    const extremes = wasm.endSummary();
    min = extremes.min;
    max = extremes.max;
    open = own.cells - extremes.blocked;
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
