/**
 * The components kernel's face merge in WebAssembly (worker/kernels/wasm/face-merge.wat): the
 * algorithm of components.ts's JavaScript merge, which slab 0 runs alone after the barrier, once
 * per run. Run once per job, that JavaScript is seldom optimised (~16 ms cold against 0.7 ms warm
 * at 200³, docs/performance.md › Components: the face merge in WebAssembly); the module is
 * compiled once per thread. The faces, sizes and flags are copied into the module's
 * memory (the thread's kept instance, kept-wasm-memory.ts), a few bytes per face cell.
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import { HISTOGRAM_BINS } from './finished-clusters.ts';
import { KeptInstances } from './kept-wasm-memory.ts';
import type { Slab } from './slabs.ts';
import type { ComponentsTask } from './task.ts';
import type { FaceJoin } from './components.ts';
import { WASM_PAGE, compileWasm, type WasmMemory } from './wasm-runtime.ts';

interface FaceMergeExports {
  memory: WasmMemory;
  init(parent: number, total: number): void;
  join(lower: number, upper: number, cells: number, baseLower: number, baseUpper: number): void;
  finish(total: number, size: number, flags: number, out: number, bins: number): void;
}

/** The merged face clusters' totals. */
export interface FaceTotals {
  count: number;
  largest: number;
  histogram: ArrayLike<number>;
  spans: boolean;
  /** Bytes the merge allocated. */
  bytes: number;
}

/** The most memory the merge's instance may take; larger faces keep the JavaScript merge. */
const MAX_MERGE_BYTES = 2 ** 31;

/** Float64 slots of the totals: count, largest, spans, then the histogram. */
const OUT_SLOTS = 3 + HISTOGRAM_BINS;

const align8 = (bytes: number): number => Math.ceil(bytes / 8) * 8;

/**
 * Byte addresses in the module's memory for `faceCells` face labels (every slab's two rows) and
 * `total` face clusters: labels, then per cluster its parent (4), size (8) and flags (1), then the totals.
 */
function layoutOf(faceCells: number, total: number): { parent: number; size: number; flags: number; out: number; memoryBytes: number } {
  const parent = 4 * faceCells;
  const size = align8(parent + 4 * total);
  const flags = size + 8 * total;
  const out = align8(flags + total);
  const bytes = out + 8 * OUT_SLOTS;
  return { parent, size, flags, out, memoryBytes: Math.ceil(bytes / WASM_PAGE) * WASM_PAGE };
}

/** Where each slab's face clusters start in one numbering of every slab's (`base`), and how many there are in all. */
export function faceClusterBases(faceCounts: readonly number[]): { base: number[]; total: number } {
  const base: number[] = [];
  let total = 0;
  for (const count of faceCounts) {
    base.push(total);
    total += count;
  }
  return { base, total };
}

/** Most bytes the merge takes on this run's slabs: at most one cluster per face cell. */
export function faceMergeWasmBytes(lattice: Pick<Lattice, 'strides'>, slabs: readonly Slab[]): number {
  const faceCells = slabs.length * 2 * lattice.strides[0]!;
  return layoutOf(faceCells, faceCells).memoryBytes;
}

/** Whether the merge runs in WebAssembly: the `axis` connectivity, faces that fit its memory. */
export function faceMergeWasmFits(lattice: Pick<Lattice, 'strides'>, slabs: readonly Slab[], full: boolean): boolean {
  return !full && faceMergeWasmBytes(lattice, slabs) <= MAX_MERGE_BYTES;
}

let compiled: object | null = null;

/** The thread's spare instance: its mapped pages outlive a run. */
export const keptFaceMerge = new KeptInstances<FaceMergeExports>(() => {
  compiled ??= compileWasm(new URL('./wasm/face-merge.wasm', import.meta.url));
  return compiled;
});

/**
 * Unions the face clusters of every slab across touching faces (and the periodic seam of axis 0)
 * and totals the merged clusters, under the `axis` connectivity (`faceMergeWasmFits`).
 *
 * @param faceCounts - each slab's face clusters
 * @param joins - the faces that touch (components.ts `faceJoins`)
 */
export function mergeFacesWasm(task: ComponentsTask, faceCounts: readonly number[], joins: readonly FaceJoin[]): FaceTotals {
  const { lattice, slabs, buffers } = task;
  const rowCells = lattice.strides[0]!;
  const slabCount = slabs.length;
  const { base, total } = faceClusterBases(faceCounts);
  const layout = layoutOf(slabCount * 2 * rowCells, total);
  const exports = keptFaceMerge.take(layout.memoryBytes);
  try {
    const buffer = exports.memory.buffer;
    const labels = new Int32Array(buffer);
    const sizes = new Float64Array(buffer, layout.size, total);
    const flags = new Uint8Array(buffer, layout.flags, total);
    for (let t = 0; t < slabCount; t++) {
      labels.set(new Int32Array(buffers.faceLabels[t]!), t * 2 * rowCells);
      sizes.set(new Float64Array(buffers.faceSizes[t]!, 0, faceCounts[t]!), base[t]!);
      flags.set(new Uint8Array(buffers.faceFlags[t]!, 0, faceCounts[t]!), base[t]!);
    }
    exports.init(layout.parent, total);
    for (const { lower, lowerAt, upper, upperAt } of joins) {
      exports.join(4 * (lower * 2 * rowCells + lowerAt), 4 * (upper * 2 * rowCells + upperAt), rowCells, base[lower]!, base[upper]!);
    }
    exports.finish(total, layout.size, layout.flags, layout.out, HISTOGRAM_BINS);
    const out = new Float64Array(buffer, layout.out, OUT_SLOTS);
    return { count: out[0]!, largest: out[1]!, spans: out[2] === 1, histogram: out.slice(3), bytes: layout.memoryBytes };
  } finally {
    keptFaceMerge.release(exports);
  }
}
