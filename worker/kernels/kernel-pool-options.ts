/** Options of a {@link KernelPool}, their defaults, and their validation. */
import { availableParallelism, totalmem } from 'node:os';
import type { KernelType } from '../../shared/lattice/types.ts';
import { TWO_SIDED_AUTO_MAX_CELLS } from './two-sided-bfs.ts';
import { TWO_SIDED_BRICK_MIN_CELLS } from './two-sided-bricks.ts';

/** Options of a kernel pool. */
export interface KernelPoolOptions {
  /**
   * Threads in the pool: the most slabs one run is split into, and the most runs at once.
   * @defaultValue `os.availableParallelism()`
   */
  threads?: number;
  /**
   * Per kernel type, the fewest cells for which a run is split across threads. Below it a run
   * is one task: barriers and slab faces would cost more than the extra threads give.
   * @defaultValue `{ shortest_path: 2^22, components: 2^18, diffusion: 2^16 }`
   */
  parallelMinCells?: Partial<Record<KernelType, number>>;
  /**
   * Fewest rows of axis 0 per slab when splitting automatically, which keeps slab faces (the
   * memory exchanged between slabs) small next to the slabs.
   * @defaultValue 64
   */
  minRowsPerSlab?: number;
  /**
   * Most bytes of working memory one run may allocate (its shared arrays and its slab threads'
   * WebAssembly memories); a larger run fails with `too_large` before allocating anything.
   * @defaultValue half of `os.totalmem()`
   */
  memoryLimitBytes?: number;
  /**
   * How long `close()` lets running jobs finish before cancelling them, in ms.
   * @defaultValue 10_000
   */
  closeTimeoutMs?: number;
  /**
   * How often `run()` reads the shared progress counter and calls `onProgress`, in ms.
   * @defaultValue 100
   */
  progressIntervalMs?: number;
  /**
   * How many cells, per step of the lower bound, a shortest-path dive may enter before the
   * bidirectional search takes over.
   * @defaultValue 16
   */
  diveBudgetPerStep?: number;
  /**
   * On two threads, the cells per step of the first dive, alone in one thread: an easy
   * lattice's lower-bound path touches little more than the path (2-D 2000² at density 0.2: 4,459
   * cells for 3,998 steps). When it finds none, side 0 of the two-thread search dives with the
   * whole budget while side 1 searches (two-sided-search.ts).
   * @defaultValue 2
   */
  quickDiveBudgetPerStep?: number;
  /**
   * Runs whose work (cells, times steps for diffusion) is at most this are computed on the
   * caller's thread, with the same kernel code: for a tiny lattice, handing the run to a thread
   * (shared buffers, a message each way, a wake-up) costs more than the kernel itself. Such a run
   * takes microseconds, so a cancel still lands at once (before it starts, or after it finished).
   * 0 sends every run to a thread.
   * @defaultValue 0
   */
  inlineMaxCells?: number;
  /**
   * Runs of small warm-up jobs each kernel thread gets before `start()` resolves (kernel-warm-up.ts):
   * a fresh pool runs the hard 2-D path two to four times slower for its first dozen runs while the
   * threads' JavaScript is optimised (docs/performance.md › A fourth machine, 2026-12-07 morning).
   * 0 starts cold.
   * @defaultValue 0
   */
  warmUpRuns?: number;
  /**
   * The fewest cells from which the two-thread shortest-path search keeps a 3-D lattice's state
   * in 8×8×8 bricks instead of rows (two-sided-bricks.ts); Infinity keeps rows. Benches compare
   * the two layouts with it.
   * @defaultValue TWO_SIDED_BRICK_MIN_CELLS (two-sided-bricks.ts)
   */
  twoSidedBrickMinCells?: number;
  /**
   * The most cells on which `threads: 'auto'` takes the two-thread shortest-path search. Its state
   * and lists cost 4.2–4.6 bits a cell against the one-thread search's 3.2: on 10^9 cells that is
   * 567 against 427 MB for 22 against 34 s (docs/performance.md › The idle machine, 2026-12-06
   * final), so from here the leaner search answers; `threads: 2` still asks for two.
   * @defaultValue TWO_SIDED_AUTO_MAX_CELLS (two-sided-bfs.ts)
   */
  twoSidedAutoMaxCells?: number;
}

/** Options with every default filled in. */
export type ResolvedKernelPoolOptions = Required<Omit<KernelPoolOptions, 'parallelMinCells'>> & {
  parallelMinCells: Record<KernelType, number>;
};

/** The defaults, in one place. */
export const KERNEL_POOL_DEFAULTS = {
  // distance_field, min_cost_path and percolation run in one thread whatever their size (past any lattice's cells).
  parallelMinCells: { shortest_path: 2 ** 22, components: 2 ** 18, diffusion: 2 ** 16, distance_field: 2 ** 33, min_cost_path: 2 ** 33, percolation: 2 ** 33 },
  minRowsPerSlab: 64,
  closeTimeoutMs: 10_000,
  progressIntervalMs: 100,
  diveBudgetPerStep: 16,
  quickDiveBudgetPerStep: 2,
  inlineMaxCells: 0,
  warmUpRuns: 0,
  twoSidedBrickMinCells: TWO_SIDED_BRICK_MIN_CELLS,
  twoSidedAutoMaxCells: TWO_SIDED_AUTO_MAX_CELLS,
} as const;

/**
 * Fills in defaults and checks every field.
 *
 * @throws RangeError naming the field, e.g. "options.threads must be a positive integer"
 */
export function resolveKernelPoolOptions(options: KernelPoolOptions = {}): ResolvedKernelPoolOptions {
  const resolved: ResolvedKernelPoolOptions = {
    threads: options.threads ?? availableParallelism(),
    parallelMinCells: { ...KERNEL_POOL_DEFAULTS.parallelMinCells, ...options.parallelMinCells },
    minRowsPerSlab: options.minRowsPerSlab ?? KERNEL_POOL_DEFAULTS.minRowsPerSlab,
    memoryLimitBytes: options.memoryLimitBytes ?? Math.floor(totalmem() / 2),
    closeTimeoutMs: options.closeTimeoutMs ?? KERNEL_POOL_DEFAULTS.closeTimeoutMs,
    progressIntervalMs: options.progressIntervalMs ?? KERNEL_POOL_DEFAULTS.progressIntervalMs,
    diveBudgetPerStep: options.diveBudgetPerStep ?? KERNEL_POOL_DEFAULTS.diveBudgetPerStep,
    quickDiveBudgetPerStep: options.quickDiveBudgetPerStep ?? KERNEL_POOL_DEFAULTS.quickDiveBudgetPerStep,
    inlineMaxCells: options.inlineMaxCells ?? KERNEL_POOL_DEFAULTS.inlineMaxCells,
    warmUpRuns: options.warmUpRuns ?? KERNEL_POOL_DEFAULTS.warmUpRuns,
    twoSidedBrickMinCells: options.twoSidedBrickMinCells ?? KERNEL_POOL_DEFAULTS.twoSidedBrickMinCells,
    twoSidedAutoMaxCells: options.twoSidedAutoMaxCells ?? KERNEL_POOL_DEFAULTS.twoSidedAutoMaxCells,
  };
  positiveInteger('threads', resolved.threads);
  positiveInteger('minRowsPerSlab', resolved.minRowsPerSlab);
  positiveInteger('memoryLimitBytes', resolved.memoryLimitBytes);
  positiveInteger('closeTimeoutMs', resolved.closeTimeoutMs);
  positiveInteger('progressIntervalMs', resolved.progressIntervalMs);
  nonNegative('diveBudgetPerStep', resolved.diveBudgetPerStep);
  nonNegative('quickDiveBudgetPerStep', resolved.quickDiveBudgetPerStep);
  nonNegative('inlineMaxCells', resolved.inlineMaxCells);
  nonNegative('warmUpRuns', resolved.warmUpRuns);
  if (Number.isNaN(resolved.twoSidedBrickMinCells) || resolved.twoSidedBrickMinCells < 0) throw new RangeError('options.twoSidedBrickMinCells must be a non-negative number or Infinity');
  if (Number.isNaN(resolved.twoSidedAutoMaxCells) || resolved.twoSidedAutoMaxCells < 0) throw new RangeError('options.twoSidedAutoMaxCells must be a non-negative number or Infinity');
  for (const [type, cells] of Object.entries(resolved.parallelMinCells)) nonNegative(`parallelMinCells.${type}`, cells);
  return resolved;
}

function positiveInteger(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`options.${field} must be a positive integer`);
}

function nonNegative(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`options.${field} must be a non-negative number`);
}
