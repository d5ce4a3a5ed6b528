/** Types of one kernel run as the pool's callers see it. */
import type { KernelResultByType, KernelType } from '../../shared/lattice/types.ts';
import type { JobControl } from './job-control.ts';

/** Options of one run. */
export interface KernelRunOptions {
  /** Aborting it cancels the run: the result rejects with a `cancelled` KernelError within 100 ms. */
  signal?: AbortSignal;
  /** Called (by `run()`) with progress in [0, 1] as it rises, and with 1 on success. */
  onProgress?: (progress: number) => void;
  /**
   * Slab threads: `'auto'` splits large lattices across the pool and keeps small ones on one
   * thread; a number asks for that many (capped at the pool size and at `shape[0]`).
   * @defaultValue 'auto'
   */
  threads?: number | 'auto';
  /**
   * `shortest_path` only: `'auto'` first tries the lower-bound dive, which answers at once when
   * some shortest path is as short as the Manhattan bound; `'bfs'` goes straight to the
   * bidirectional search.
   * @defaultValue 'auto'
   */
  strategy?: 'auto' | 'bfs';
  /**
   * `diffusion` only: called, before the run settles, with the whole final field as one float32
   * view per slab (row-major, in slab order), which the caller may keep and store. Asking for it
   * costs 4 bytes per cell of shared memory, counted in the run's working memory.
   */
  onField?: (slabs: readonly Float32Array[]) => void;
  /** The packed bits of the uploaded obstacle map the spec names (shared memory, read by every slab thread). */
  obstacleMap?: Uint8Array;
  /**
   * `shortest_path` and `min_cost_path`: the result's paths (`path`, each of `pairs`' paths) as
   * CellPaths (shared/lattice/cell-path.ts: 4 bytes a cell, written as coordinates only by the
   * result writer) instead of coordinate lists (one array per cell). The job runner asks for them.
   * @defaultValue false
   */
  pathCells?: boolean;
}

/** How a run went, for metrics and benchmarks. */
export interface KernelRunStats {
  /** Slab threads used (1 for a dive). */
  threads: number;
  /** Which method answered. */
  method: 'trivial' | 'dive' | 'bfs' | 'components' | 'diffusion' | 'distance_field' | 'min_cost_path' | 'pairs' | 'percolation' | 'flood';
  /** From submission to result, in ms. */
  wall_ms: number;
  /** Preparing slabs (obstacles) in the slowest thread, in ms. */
  build_ms: number;
  /** The kernel proper in the slowest thread, in ms. */
  run_ms: number;
  /** Shared memory allocated (slabs and control block). */
  shared_bytes: number;
  /** Private memory the threads allocated (frontiers, queues), summed. */
  thread_bytes: number;
  /** Cells of the lattice. */
  cells: number;
  /** shortest_path in two threads: whether its state was kept in rows or in bricks (two-sided-bricks.ts). */
  layout?: 'rows' | 'bricks';
}

/** A result with its stats. */
export interface KernelOutcome<T extends KernelType = KernelType> {
  result: KernelResultByType[T];
  stats: KernelRunStats;
}

/** A submitted run. */
export interface KernelRun<T extends KernelType = KernelType> {
  /** The run's shared control block (cancel flag, progress counter). */
  readonly control: JobControl;
  /** Whether the run is computed on the caller's thread (a tiny one), not on a pool thread. */
  readonly inline: boolean;
  /** Progress in [0, 1], read from shared memory; monotone, and 1 once the run succeeded. */
  readonly progress: number;
  /** Settles with the outcome, or rejects with a KernelError or LatticeValidationError. */
  readonly outcome: Promise<KernelOutcome<T>>;
  /** Cancels the run (same as aborting its signal). */
  cancel(): void;
}
