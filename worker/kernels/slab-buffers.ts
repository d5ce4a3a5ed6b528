/**
 * The shared arrays each kernel needs, per slab: sized here once, so the pool can refuse a run
 * that would not fit before allocating anything, and report exactly what it allocated.
 */
import { bitArrayBytes, pairArrayBytes } from './bit-slab.ts';
import { sampleShape } from './field-sample.ts';
import type { Slab } from './slabs.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { COMPONENT_STATS_SLOTS } from './components.ts';
import { faceMergeWasmBytes, faceMergeWasmFits } from './face-merge.ts';
import { SUMMARY_SLOTS } from './diffusion.ts';
import { faceBufferCells, wasmStencilBytes, wasmStencilFits } from './diffusion-wasm.ts';
import { labellingWasmFits, runLabellingLayout } from '../../shared/lattice/run-labelling-layout.ts';
import type { BfsBuffers, ComponentsBuffers, DiffusionBuffers } from './task.ts';
import type { SharedBufferPool } from './shared-buffer-pool.ts';

/** Kernels that run on slabs with shared arrays. */
export type SlabKernel = 'bfs' | 'components' | 'diffusion';

/** Buffers of each slab kernel. */
export interface SlabBuffersByKernel {
  bfs: BfsBuffers;
  components: ComponentsBuffers;
  diffusion: DiffusionBuffers;
}

type Sizes = Record<string, number[] | null>;

/** What a run keeps past its end. */
export interface SlabBufferOptions {
  /**
   * Diffusion: a float32 copy of each slab's final field, for the caller to store as an artefact.
   * @defaultValue false
   */
  keepField?: boolean;
}

/** Bytes of each buffer, per slab, of a kernel run over `slabs`. */
function sizesOf(kernel: SlabKernel, lattice: Lattice, slabs: readonly Slab[], options: SlabBufferOptions): Sizes {
  const rowCells = lattice.strides[0]!;
  const perSlab = (bytes: (slab: Slab) => number): number[] => slabs.map(bytes);
  switch (kernel) {
    case 'bfs':
      return {
        marks: perSlab((slab) => bitArrayBytes(slab.cells)),
        layers: perSlab((slab) => pairArrayBytes(slab.cells)),
        // A round hands at most one face's worth of cells each way.
        outboxes: slabs.length > 1 ? perSlab(() => 2 * rowCells * 4) : null,
      };
    case 'components':
      // The labelling streams rows, so nothing per cell is shared: only the faces.
      return {
        faceLabels: perSlab(() => 2 * rowCells * 4),
        // Each face cluster covers at least one face cell, so two faces bound their number.
        faceSizes: perSlab(() => 2 * rowCells * 8),
        faceFlags: perSlab(() => 2 * rowCells),
        stats: perSlab(() => COMPONENT_STATS_SLOTS * 8),
        claims: perSlab(() => 4),
      };
    case 'diffusion': {
      const samples = sampleShape(lattice.shape).reduce((product, side) => product * side, 1);
      // WebAssembly slabs keep codes and fields in their own memory (counted as thread memory)
      // and share only face rows; the JavaScript stencil reads its neighbours' fields in place.
      const wasm = wasmStencilFits(lattice, slabs);
      return {
        fieldA: perSlab((slab) => (wasm ? 0 : slab.cells * 4)),
        fieldB: perSlab((slab) => (wasm ? 0 : slab.cells * 4)),
        faces: perSlab(() => (wasm ? faceBufferCells(lattice) * 4 : 0)),
        samples: perSlab(() => (SUMMARY_SLOTS + samples) * 8),
        kept: options.keepField ? perSlab((slab) => slab.cells * 4) : null,
      };
    }
  }
}

/** Bytes of shared memory a kernel run over `slabs` allocates. */
export function slabBufferBytes(kernel: SlabKernel, lattice: Lattice, slabs: readonly Slab[], options: SlabBufferOptions = {}): number {
  let total = 0;
  for (const sizes of Object.values(sizesOf(kernel, lattice, slabs, options))) {
    for (const bytes of sizes ?? []) total += bytes;
  }
  return total;
}

/**
 * Bytes of the WebAssembly memories a kernel run's slab threads take beside the shared buffers:
 * diffusion's fields and codes, components' row arrays and face merge (`full`: under the `full` connectivity).
 */
export function slabWasmBytes(kernel: SlabKernel, lattice: Lattice, slabs: readonly Slab[], full = false): number {
  if (kernel === 'diffusion' && wasmStencilFits(lattice, slabs)) return slabs.reduce((sum, slab) => sum + wasmStencilBytes(lattice, slab), 0);
  if (kernel !== 'components') return 0;
  // Slab 0's thread merges the faces in a memory of its own, at most 17 bytes per face cell.
  const merge = faceMergeWasmFits(lattice, slabs, full) ? faceMergeWasmBytes(lattice, slabs) : 0;
  return merge + (labellingWasmFits(lattice.shape, full) ? slabs.length * runLabellingLayout(lattice.shape, full).memoryBytes : 0);
}

/**
 * Components' face buffers, which only their own slab's thread touches until it has labelled:
 * kept ones reach the thread unzeroed, flagged in `dirtyFaces`, and the thread zeroes them
 * (components.ts), so two threads zero their slabs' at once instead of the pool all of them
 * before the run starts.
 */
const ZEROED_BY_SLAB = new Set(['faceLabels', 'faceSizes', 'faceFlags']);

/**
 * Allocates a kernel run's shared buffers (zeroed), from `pool` when given: kept buffers of the
 * same lengths, zeroed, instead of fresh pages (components' face buffers: zeroed by their slab's
 * thread, `dirtyFaces`).
 */
export function allocateSlabBuffers<K extends SlabKernel>(
  kernel: K,
  lattice: Lattice,
  slabs: readonly Slab[],
  options: SlabBufferOptions = {},
  pool?: SharedBufferPool,
): SlabBuffersByKernel[K] {
  const buffers: Record<string, SharedArrayBuffer[] | boolean[] | null> = {};
  const dirtyFaces = slabs.map(() => false);
  for (const [name, sizes] of Object.entries(sizesOf(kernel, lattice, slabs, options))) {
    buffers[name] =
      sizes === null
        ? null
        : sizes.map((bytes, slab) => {
            if (!pool) return new SharedArrayBuffer(bytes);
            if (kernel !== 'components' || !ZEROED_BY_SLAB.has(name)) return pool.take(bytes);
            const { buffer, dirty } = pool.takeUnzeroed(bytes);
            if (dirty) dirtyFaces[slab] = true;
            return buffer;
          });
  }
  if (kernel === 'components' && dirtyFaces.includes(true)) buffers['dirtyFaces'] = dirtyFaces;
  return buffers as unknown as SlabBuffersByKernel[K];
}

/**
 * Gives a finished run's buffers back to `pool`, once no thread uses them: all but those the
 * caller still holds (diffusion's `kept` field, handed over for the artefact).
 */
export function releaseSlabBuffers(buffers: SlabBuffersByKernel[SlabKernel], pool: SharedBufferPool): void {
  for (const [name, list] of Object.entries(buffers as unknown as Record<string, SharedArrayBuffer[] | boolean[] | null>)) {
    if (name === 'kept' || name === 'dirtyFaces' || list === null) continue;
    for (const buffer of list as SharedArrayBuffer[]) pool.give(buffer);
  }
}
