/**
 * What the pool sends a kernel thread and what comes back. Everything here is structured-clone
 * data: SharedArrayBuffers are shared, not copied, so every slab thread of a run sees the same
 * slabs.
 */
import type { ResolvedDiffusion, ResolvedDistanceField, ResolvedMinCostPath, ResolvedPercolation } from '../../shared/lattice/job.ts';
import type { Slab } from './slabs.ts';
import type { Connectivity, Lattice } from '../../shared/lattice/types.ts';
import type { JobControlBuffers } from './job-control.ts';
import type { SharedWasmMemory } from './wasm-runtime.ts';

/** Fields every slab task has. */
interface SlabTaskBase {
  control: JobControlBuffers;
  lattice: Lattice;
  slabs: Slab[];
  /** The slab this task owns. */
  slab: number;
}

/** Looks for a path as short as the lower bound, in one thread. */
export interface DiveTask {
  kind: 'dive';
  control: JobControlBuffers;
  lattice: Lattice;
  start: number;
  end: number;
  /** Most cells the dive may enter before giving up. */
  budget: number;
}

/** Per-slab shared arrays of a bidirectional search. */
export interface BfsBuffers {
  /** 1 bit per cell: blocked, or reached from the end side. */
  marks: SharedArrayBuffer[];
  /** 2 bits per cell: 0 unreached, else 1 + (BFS layer mod 3). */
  layers: SharedArrayBuffer[];
  /** Per slab, two face-sized queues of cells handed to the slab below and above (multi-slab runs only). */
  outboxes: SharedArrayBuffer[] | null;
}

/** One slab of a bidirectional breadth-first search. */
export interface BfsTask extends SlabTaskBase {
  kind: 'bfs';
  start: number;
  end: number;
  buffers: BfsBuffers;
}

/** The search of the whole lattice in one thread (flat-bfs.ts). */
export interface FlatBfsTask {
  kind: 'flat_bfs';
  control: JobControlBuffers;
  lattice: Lattice;
  start: number;
  end: number;
  /**
   * 3 bits per cell, zeroed: blocked or end side, then the layer code's two bit planes
   * interleaved; null when the state fits the thread's WebAssembly memory instead.
   */
  state: SharedArrayBuffer | null;
  /**
   * When set, the lower-bound dive runs first in the same task with this budget (cells), and its
   * path, when it finds one, is the answer (the envelope says `dived`): one trip to a thread, not two.
   */
  diveBudget?: number;
}

/** One side of the two-thread search (two-sided-bfs.ts): side 0 grows from `start`, side 1 from `end`. */
export interface TwoSidedBfsTask {
  kind: 'two_sided_bfs';
  control: JobControlBuffers;
  lattice: Lattice;
  start: number;
  end: number;
  side: 0 | 1;
  /** The search's shared WebAssembly memory (4 bits per cell and each thread's chunk buffers), zeroed. */
  memory: SharedWasmMemory;
  /** When set, a 3-D lattice's state is in bricks (two-sided-bricks.ts), the memory sized for them. */
  bricks?: true;
  /**
   * When set, side 0 runs the lower-bound dive with this budget while side 1 searches; a path it
   * finds is the answer (the envelope says `dived`).
   */
  diveBudget?: number;
}

/** Per-slab shared arrays of a components run. */
export interface ComponentsBuffers {
  /** Per slab, Int32 labels (1 + local cluster id, 0 for none) of the first row then the last row it labelled. */
  faceLabels: SharedArrayBuffer[];
  /** Per slab, Float64 sizes of the clusters touching a face, by local id. */
  faceSizes: SharedArrayBuffer[];
  /** Per slab, Uint8 flags of the clusters touching a face: 1 first row of axis 0, 2 last row. */
  faceFlags: SharedArrayBuffer[];
  /** Per slab, Float64 counts of its finished clusters: count, largest, face clusters, its rows, histogram. */
  stats: SharedArrayBuffer[];
  /** Per slab, one Int32: for the first slab of each pair, the rows its two threads have claimed. */
  claims: SharedArrayBuffer[];
  /**
   * Per slab, whether its face buffers (labels, sizes, flags) hold a former run's bytes: its
   * thread zeroes them before labelling (slab-buffers.ts). Absent: all zeroed already.
   */
  dirtyFaces?: boolean[];
}

/** One slab of a components run. */
export interface ComponentsTask extends SlabTaskBase {
  kind: 'components';
  buffers: ComponentsBuffers;
  /** `full` joins diagonal neighbours too; `axis` when absent. */
  connectivity?: Connectivity;
}

/** Per-slab shared arrays of a diffusion run. */
export interface DiffusionBuffers {
  /** Float32 fields of the JavaScript stencil, swapped each step (empty when the slabs step in WebAssembly). */
  fieldA: SharedArrayBuffer[];
  fieldB: SharedArrayBuffer[];
  /** Face rows handed between WebAssembly slabs (empty for the JavaScript stencil). */
  faces: SharedArrayBuffer[];
  /** Per slab, Float64 totals of the final field (heat, min, max, open cells), then its block sums. */
  samples: SharedArrayBuffer[];
  /** Per slab, a float32 copy of its final field, when the caller keeps the field (null otherwise). */
  kept: SharedArrayBuffer[] | null;
}

/** One slab of a diffusion run. */
export interface DiffusionTask extends SlabTaskBase {
  kind: 'diffusion';
  params: ResolvedDiffusion;
  buffers: DiffusionBuffers;
}

/** A distance field, in one thread (distance-field.ts). */
export interface DistanceFieldTask {
  kind: 'distance_field';
  control: JobControlBuffers;
  lattice: Lattice;
  params: ResolvedDistanceField;
}

/** A minimum-cost path, in one thread (min-cost-path.ts). */
export interface MinCostPathTask {
  kind: 'min_cost_path';
  control: JobControlBuffers;
  lattice: Lattice;
  params: ResolvedMinCostPath;
}

/** A percolation curve, in one thread (percolation.ts). */
export interface PercolationTask {
  kind: 'percolation';
  control: JobControlBuffers;
  lattice: Lattice;
  params: ResolvedPercolation;
}

/** The paths of many pairs (or of one pair with diagonal steps) on one lattice, in one thread (path-pairs.ts). */
export interface PathPairsTask {
  kind: 'path_pairs';
  control: JobControlBuffers;
  lattice: Lattice;
  pairs: Array<{ start: number; end: number }>;
  connectivity: Connectivity;
}

/** Connected components by flood fill, in one thread (flood-components.ts): the `full` connectivity. */
export interface FloodComponentsTask {
  kind: 'flood_components';
  control: JobControlBuffers;
  lattice: Lattice;
  connectivity: Connectivity;
}

/** Does nothing: the pool warms its threads with it. */
export interface PingTask {
  kind: 'ping';
}

/** Anything a kernel thread runs. */
/** Labels one slab of rows for the component-labels artefact, into shared buffers the caller reuses. */
export interface LabelSlabTask {
  kind: 'label_slab';
  control: JobControlBuffers;
  lattice: Lattice;
  rowFrom: number;
  rowTo: number;
  /** Uint32 per slab cell: the local labels. */
  labels: SharedArrayBuffer;
  /** Uint32 per slab cell at most: each local label's size. */
  sizes: SharedArrayBuffer;
}

export type KernelTask =
  | LabelSlabTask
  | DiveTask
  | BfsTask
  | FlatBfsTask
  | TwoSidedBfsTask
  | ComponentsTask
  | DiffusionTask
  | DistanceFieldTask
  | FloodComponentsTask
  | MinCostPathTask
  | PathPairsTask
  | PercolationTask
  | PingTask;

/** Timings a thread measured, in ms. */
export interface TaskTimings {
  /** Preparing the slab (obstacles). */
  build_ms: number;
  /** The kernel proper. */
  run_ms: number;
}

/** A thread's answer. Errors come back as data, since a posted Error loses its code. */
export type TaskEnvelope =
  | { ok: true; value: unknown; threadBytes: number; timings: TaskTimings; dived?: boolean }
  | { ok: false; error: { name: string; code: string; message: string; secondary: boolean } };
