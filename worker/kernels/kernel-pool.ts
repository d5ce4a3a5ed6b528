/**
 * The kernel pool: a piscina pool of kernel threads, and the orchestration of one run across
 * slabs. Everything heavy happens in threads (a one-slab run is one piscina task, not main
 * thread work), so the caller's event loop stays free to renew job locks and serve requests.
 * Only runs below `inlineMaxCells` of work are computed on the caller's thread, with the same
 * task code: they take microseconds, less than a trip to a thread and back.
 */
import { Piscina } from 'piscina';
import { coordsOf, stepLowerBound } from '../../shared/lattice/geometry.ts';
import { type ResolvedJob, resolveJob, resolveParams } from '../../shared/lattice/job.ts';
import type {
  ResolvedComponents,
  ResolvedDistanceField,
  ResolvedMinCostPath,
  ResolvedParams,
  ResolvedPercolation,
  ResolvedShortestPath,
} from '../../shared/lattice/job.ts';
import { MAX_RETURNED_PATH_CELLS } from '../../shared/lattice/limits.ts';
import { labellingWasmFits } from '../../shared/lattice/run-labelling-layout.ts';
import { oneThreadKernelBytes } from '../../shared/lattice/working-memory.ts';
import { planSlabs } from './slabs.ts';
import type { Connectivity, Lattice, KernelResultByType, KernelType } from '../../shared/lattice/types.ts';
import { JobControl } from './job-control.ts';
import { KernelError } from './kernel-errors.ts';
import { resolveKernelPoolOptions } from './kernel-pool-options.ts';
import type { KernelPoolOptions, ResolvedKernelPoolOptions } from './kernel-pool-options.ts';
import type { KernelOutcome, KernelRun, KernelRunOptions, KernelRunStats } from './kernel-run.ts';
import { withPaths } from './path-result.ts';
import runKernelTask from './kernel-thread.ts';
import { flatBfsFits, flatBfsPlan, flatBfsUsesBricks } from './flat-bfs.ts';
import { KEPT_TWO_SIDED_BYTES, TWO_SIDED_MIN_CELLS, twoSidedBytes, twoSidedFits, twoSidedMemory } from './two-sided-bfs.ts';
import { twoSidedBricksBytes, twoSidedBricksLayout, twoSidedBricksMemory } from './two-sided-bricks.ts';
import type { SharedWasmMemory } from './wasm-runtime.ts';
import { allocateSlabBuffers, releaseSlabBuffers, type SlabBufferOptions, type SlabBuffersByKernel, slabBufferBytes, slabWasmBytes } from './slab-buffers.ts';
import { SharedBufferPool } from './shared-buffer-pool.ts';
import type { SlabKernel } from './slab-buffers.ts';
import type { DiffusionBuffers, KernelTask, TaskEnvelope } from './task.ts';
import { THREAD_FILE } from './thread-file.ts';
import { mark } from './timeline-marks.ts';
import { ThreadSlots } from './thread-slots.ts';
import { WARM_UP_JOBS, warmUpOrder, type WarmUpJob } from './kernel-warm-up.ts';

/** Lattices kept by their spec's JSON (KernelPool.resolve), and the longest JSON kept. */
const LATTICE_CACHE_ENTRIES = 64;
const LATTICE_CACHE_MAX_KEY = 4096;

/** The signal of an inline run that was given none. */
const NEVER_ABORTED = new AbortController().signal;

/** How long close() waits for cancelled runs to stop before terminating threads, in ms. */
const CANCEL_GRACE_MS = 1_000;

/** How a run's tasks are run: its cancel signal, and whether on the caller's thread. */
interface RunMode {
  signal: AbortSignal;
  inline: boolean;
}

/** Parameters of a kernel that runs in one thread on private memory. */
type OneThreadParams =
  | ResolvedDistanceField
  | ResolvedMinCostPath
  | ResolvedPercolation
  | ResolvedComponents
  | { type: 'shortest_path'; pairs: Array<{ start: number; end: number }>; connectivity: Connectivity };

/** Life of a pool. */
export type KernelPoolState = 'idle' | 'starting' | 'running' | 'closing' | 'closed';

/** What a run's threads answered, summed. */
interface SlabsOutcome {
  value: unknown;
  /** A flat search's task answered with the dive's path. */
  dived?: boolean;
  threadBytes: number;
  build_ms: number;
  run_ms: number;
}

/**
 * Runs lattice kernels in worker threads.
 *
 * ```ts
 * const pool = new KernelPool({ threads: 4 });
 * await pool.start();
 * const result = await pool.run('shortest_path', spec, { start, end }, { signal, onProgress });
 * await pool.close();
 * ```
 */
export class KernelPool {
  readonly options: ResolvedKernelPoolOptions;
  private piscina: Piscina<KernelTask, TaskEnvelope> | null = null;
  private readonly slots: ThreadSlots;
  /** Slab buffers kept between runs (shared-buffer-pool.ts): at most 32 MiB per pool. */
  readonly sharedBuffers = new SharedBufferPool();
  /** The shared memory of the last two-thread search, for the next (two-sided-bfs.ts). */
  private keptTwoSided: SharedWasmMemory | null = null;
  private readonly active = new Set<{ control: JobControl; done: Promise<unknown> }>();
  /** Validated lattices of small specs, by JSON, least recently added first. */
  private readonly lattices = new Map<string, Lattice>();
  private currentState: KernelPoolState = 'idle';
  private startPromise: Promise<void> | null = null;
  private closePromise: Promise<void> | null = null;

  /** Wall time `start()` spent warming the threads up (kernel-warm-up.ts), in ms; 0 when it did not. */
  warmUpMs = 0;
  /** Warm-up jobs the pool refused and skipped (kernel-warm-up.ts). */
  warmUpSkipped = 0;

  /** @throws RangeError naming an option that is not valid */
  constructor(options: KernelPoolOptions = {}) {
    this.options = resolveKernelPoolOptions(options);
    this.slots = new ThreadSlots(this.options.threads);
  }

  get state(): KernelPoolState {
    return this.currentState;
  }

  /** Threads in the pool. */
  get threads(): number {
    return this.options.threads;
  }

  /** Starts the threads and waits until each has loaded the kernels. Safe to call twice. */
  start(): Promise<void> {
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    this.currentState = 'starting';
    this.piscina = new Piscina<KernelTask, TaskEnvelope>({
      filename: THREAD_FILE,
      minThreads: this.options.threads,
      maxThreads: this.options.threads,
      idleTimeout: Infinity,
      // Cancellation is cooperative (a shared flag); piscina's own abort would kill the thread.
      closeTimeout: this.options.closeTimeoutMs,
    });
    const pings = Array.from({ length: this.options.threads }, () => this.piscina!.run({ kind: 'ping' }));
    await Promise.all(pings);
    if (this.currentState === 'starting') this.currentState = 'running';
    if (this.options.warmUpRuns > 0 && this.currentState === 'running') await this.warmUp();
  }

  /**
   * Runs the warm-up jobs on every thread (two-thread runs where there are two). Best effort: a
   * job the pool refuses (a memory limit below it) is skipped, and the pool starts as it would cold.
   */
  private async warmUp(): Promise<void> {
    const started = performance.now();
    const threads = Math.min(2, this.options.threads);
    // A job the pool refused once is refused every time: its other runs are left out.
    const refused = new Set<WarmUpJob>();
    for (const job of warmUpOrder(WARM_UP_JOBS, this.options.warmUpRuns)) {
      if (this.currentState !== 'running') return;
      if (refused.has(job)) continue;
      try {
        await this.run(job.type, job.spec, job.params, { threads });
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        this.warmUpSkipped++;
        refused.add(job);
      }
    }
    this.warmUpMs = performance.now() - started;
  }

  /**
   * Runs a kernel and resolves with its result (the JSON stored as the job's result).
   *
   * @param type - the job type
   * @param spec - the lattice spec (validated here)
   * @param params - the job parameters (validated here)
   * @throws KernelError (`cancelled`, `too_large`, `pool_closed`, `kernel_failed`) or LatticeValidationError
   */
  async run<T extends KernelType>(
    type: T,
    spec: unknown,
    params: unknown,
    options: KernelRunOptions = {},
  ): Promise<KernelResultByType[T]> {
    return (await this.runDetailed(type, spec, params, options)).result;
  }

  /** Like {@link KernelPool.run}, with the run's stats (threads, timings, memory). */
  async runDetailed<T extends KernelType>(
    type: T,
    spec: unknown,
    params: unknown,
    options: KernelRunOptions = {},
  ): Promise<KernelOutcome<T>> {
    const run = this.submit(type, spec, params, options);
    const { onProgress } = options;
    if (!onProgress) return run.outcome;
    if (run.inline) {
      // Over before anyone could watch it: no polling, only the final 1.
      const outcome = await run.outcome;
      onProgress(1);
      return outcome;
    }
    let reported = -1;
    const report = (): void => {
      const progress = run.progress;
      if (progress > reported) {
        reported = progress;
        onProgress(progress);
      }
    };
    const timer = setInterval(report, this.options.progressIntervalMs);
    try {
      const outcome = await run.outcome;
      report();
      return outcome;
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * Submits a run and returns its handle at once: progress is readable from shared memory while
   * it runs, and `cancel()` stops it.
   */
  submit<T extends KernelType>(type: T, spec: unknown, params: unknown, options: KernelRunOptions = {}): KernelRun<T> {
    let job: ResolvedJob<T> | undefined;
    let inline = false;
    let failure: unknown;
    try {
      if (this.currentState !== 'running') {
        throw new KernelError('pool_closed', `the kernel pool is ${this.currentState}, not running`);
      }
      job = this.resolve(type, spec, params, options.obstacleMap);
      inline = this.runsInline(job.lattice, job.params, options.threads ?? 'auto');
    } catch (err) {
      failure = err;
    }
    if (job !== undefined && inline) return this.submitInline(job, options);
    const abort = new AbortController();
    // Stops the run's threads once its control block exists: called here rather than from a
    // listener on `abort` (an EventTarget listener per run cost ~50 µs before the post, cold).
    let stopThreads: (() => void) | null = null;
    const onAbort = (): void => {
      abort.abort();
      stopThreads?.();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) abort.abort();
    let control: JobControl;
    let outcome: Promise<KernelOutcome<T>>;
    try {
      if (job === undefined) throw failure;
      const threads = oneThread(job.params, job.lattice) ? 1 : this.planThreads(type, job.lattice, options.threads ?? 'auto');
      control = JobControl.create(threads);
      const started = performance.now();
      stopThreads = () => control.cancel();
      if (abort.signal.aborted) control.cancel();
      outcome = this.execute(job.lattice, job.params, control, options, { signal: abort.signal, inline: false }).then(this.answered<T>(job, control, options, started));
    } catch (err) {
      control = JobControl.create(1);
      outcome = Promise.reject(err as Error);
    }
    const done = outcome.then(
      () => undefined,
      () => undefined,
    );
    const entry = { control, done };
    this.active.add(entry);
    void done.then(() => {
      this.active.delete(entry);
      options.signal?.removeEventListener('abort', onAbort);
    });
    return {
      control,
      inline: false,
      get progress() {
        return control.progress;
      },
      outcome,
      cancel: onAbort,
    };
  }

  /**
   * Runs a tiny run on the caller's thread, as `run` would, and settles with its result; a run
   * that would not go inline is not started (undefined), nor is one on a pool that is not
   * running (its caller's `run` says why). The batch chunk loop's fast path (worker/job-runner.ts):
   * a run that ends before this returns needs no cancel signal, timer or progress of its own.
   */
  runInline<T extends KernelType>(type: T, spec: unknown, params: unknown, options: Pick<KernelRunOptions, 'obstacleMap' | 'pathCells'> = {}): Promise<KernelResultByType[T]> | undefined {
    if (this.currentState !== 'running') return undefined;
    let job: ResolvedJob<T>;
    try {
      job = this.resolve(type, spec, params, options.obstacleMap);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (!this.runsInline(job.lattice, job.params, 'auto')) return undefined;
    return this.submitInline(job, options).outcome.then(resultOf);
  }

  /**
   * A run on the caller's thread: its one task runs before `submit` returns (inline runs take
   * microseconds), so nothing can abort it midway and it needs none of a threaded run's
   * apparatus — no abort listeners, no shared control block (a private one: no thread reads it),
   * no entry for close() to wait on. A signal aborted beforehand still cancels it.
   */
  private submitInline<T extends KernelType>(job: ResolvedJob<T>, options: KernelRunOptions): KernelRun<T> {
    const control = JobControl.createPrivate(1);
    if (options.signal?.aborted) control.cancel();
    const started = performance.now();
    const outcome = this.execute(job.lattice, job.params, control, options, { signal: options.signal ?? NEVER_ABORTED, inline: true }).then(
      this.answered<T>(job, control, options, started),
    );
    return new InlineRun(control, outcome);
  }

  /**
   * A finished run's outcome, threaded or inline: progress at 1, paths (cell indices from the
   * kernels) as coordinates or as CellPaths for the result writer, and the run's wall time.
   */
  private answered<T extends KernelType>(job: ResolvedJob<T>, control: JobControl, options: KernelRunOptions, started: number) {
    return ({ result, stats }: { result: unknown; stats: Omit<KernelRunStats, 'wall_ms'> }): KernelOutcome<T> => {
      mark('answered');
      control.publishProgress(1);
      const answer = withPaths(result, job.lattice, options.pathCells === true);
      return { result: answer, stats: { ...stats, wall_ms: performance.now() - started } } as KernelOutcome<T>;
    };
  }

  /**
   * Validates a run's spec and parameters. The lattice of a small inline spec (no uploaded map)
   * is kept by its JSON: a chunk's jobs share one lattice, which is then validated and built once.
   * Lattices are read-only, so one object serves every run on it.
   */
  private resolve<T extends KernelType>(type: T, spec: unknown, params: unknown, map: Uint8Array | undefined): ResolvedJob<T> {
    if (map !== undefined || spec === null || typeof spec !== 'object') return resolveJob(type, spec, params, map);
    const key = JSON.stringify(spec);
    if (key.length > LATTICE_CACHE_MAX_KEY) return resolveJob(type, spec, params, map);
    const lattice = this.lattices.get(key);
    if (lattice !== undefined) return { lattice, params: resolveParams(type, lattice, params) };
    const job = resolveJob(type, spec, params);
    this.lattices.set(key, job.lattice);
    if (this.lattices.size > LATTICE_CACHE_ENTRIES) this.lattices.delete(this.lattices.keys().next().value as string);
    return job;
  }

  /**
   * Labels rows `[rowFrom, rowTo)` of `lattice` in a kernel thread into the caller's shared
   * buffers (slab-labels.ts), for the streamed component labels; resolves with the number of
   * local labels. A slab is a task of its own, so the caller's event loop stays free.
   *
   * @throws KernelError (`cancelled`, `pool_closed`, `kernel_failed`)
   */
  async labelSlab(slab: { lattice: Lattice; rowFrom: number; rowTo: number; labels: SharedArrayBuffer; sizes: SharedArrayBuffer }, signal?: AbortSignal): Promise<number> {
    const control = JobControl.create(1);
    const onAbort = (): void => control.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) control.cancel();
    const abort = signal ?? new AbortController().signal;
    const done = this.runTasks(1, () => [{ kind: 'label_slab', control: control.buffers, ...slab }], control, { signal: abort, inline: false });
    const entry = { control, done };
    this.active.add(entry);
    try {
      return (await done).value as number;
    } finally {
      this.active.delete(entry);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Whether a run is small enough to compute on the caller's thread. */
  private runsInline(lattice: Lattice, params: ResolvedParams, requested: number | 'auto'): boolean {
    const limit = this.options.inlineMaxCells;
    if (limit <= 0 || (requested !== 'auto' && requested !== 1)) return false;
    const work = params.type === 'diffusion' ? lattice.cells * Math.max(1, params.steps) : lattice.cells;
    return work <= limit;
  }

  /** Slab threads for a run. */
  private planThreads(type: KernelType, lattice: Lattice, requested: number | 'auto'): number {
    // The one-thread search outruns the slab-parallel one on two; from TWO_SIDED_MIN_CELLS the
    // two sides of a 2-D search run in two threads (two-sided-bfs.ts), and of a 3-D search in rows
    // below twoSidedBrickMinCells or in bricks above (two-sided-bricks.ts). 3-D in rows from there
    // up gave 1.12x one thread's wall time for 1.7x its CPU on the idle machine (216³; a periodic
    // one stays in rows, so on one thread); in bricks two threads spend 1.0–1.25x one thread's CPU,
    // the busiest about half (docs/performance.md › `shortest_path` in two threads, in bricks).
    // Above twoSidedAutoMaxCells the one-thread search's fewer bits a cell win (10^9 cells: 3.2
    // against 4.2).
    if (type === 'shortest_path' && requested === 'auto' && flatBfsFits(lattice)) {
      const d = lattice.shape.length;
      const belowBricks = lattice.cells < this.options.twoSidedBrickMinCells;
      const inBricks = d === 3 && !belowBricks && flatBfsUsesBricks(lattice) && twoSidedBricksLayout(lattice) !== null;
      const two =
        this.options.threads >= 2 && (d <= 2 || (d === 3 && belowBricks) || inBricks) && lattice.cells >= TWO_SIDED_MIN_CELLS && lattice.cells <= this.options.twoSidedAutoMaxCells && twoSidedFits(lattice);
      return two ? 2 : 1;
    }
    const rows = lattice.shape[0]!;
    if (requested !== 'auto') {
      if (!Number.isSafeInteger(requested) || requested < 1) {
        throw new RangeError(`options.threads must be 'auto' or a positive integer, got ${requested}`);
      }
      return Math.min(requested, this.options.threads, rows);
    }
    if (lattice.cells < this.options.parallelMinCells[type]) return 1;
    return Math.max(1, Math.min(this.options.threads, Math.floor(rows / this.options.minRowsPerSlab)));
  }

  private async execute(
    lattice: Lattice,
    params: ResolvedParams,
    control: JobControl,
    options: KernelRunOptions,
    how: RunMode,
  ): Promise<Omit<KernelOutcome, 'stats'> & { stats: Omit<KernelRunStats, 'wall_ms'> }> {
    switch (params.type) {
      case 'shortest_path':
        return this.shortestPath(lattice, params, control, options.strategy ?? 'auto', how);
      case 'components':
      case 'diffusion': {
        // The slab labelling wraps every axis or none: per-axis boundaries go by flood fill (and
        // diagonal neighbours where the labelling's WebAssembly layout does not fit).
        if (params.type === 'components' && oneThread(params, lattice)) return this.oneThreadKernel(lattice, params, control, how);
        const kernel = params.type;
        const keepField = kernel === 'diffusion' && options.onField !== undefined;
        const outcome = await this.runSlabKernel(kernel, lattice, params, control, how, { keepField });
        if (keepField && outcome.buffers) options.onField!((outcome.buffers as DiffusionBuffers).kept!.map((buffer) => new Float32Array(buffer)));
        return {
          result: { ...(outcome.value as object), memory_bytes: outcome.memoryBytes } as KernelResultByType[typeof kernel],
          stats: outcome.stats(kernel),
        };
      }
      case 'distance_field':
      case 'min_cost_path':
      case 'percolation':
        return this.oneThreadKernel(lattice, params, control, how);
    }
  }

  /** A kernel that runs in one thread on private memory (distance_field, min_cost_path, percolation, shortest_path's pairs, `full` connectivity). */
  private async oneThreadKernel(
    lattice: Lattice,
    params: OneThreadParams,
    control: JobControl,
    how: RunMode,
  ): Promise<{ result: KernelResultByType[OneThreadParams['type']]; stats: Omit<KernelRunStats, 'wall_ms'> }> {
    const sources = params.type === 'distance_field' ? (params.sources?.length ?? 0) : params.type === 'shortest_path' ? params.pairs.length : 0;
    // A field on costs holds what a minimum-cost path does: a cost byte and a float64 per cell, and the buckets.
    const sized = params.type === 'distance_field' && params.costs !== null ? 'min_cost_path' : params.type;
    const needed = oneThreadKernelBytes(sized, lattice.shape, sources) + control.bytes;
    if (needed > this.options.memoryLimitBytes) {
      throw new KernelError('too_large', `the run needs about ${needed} bytes of working memory; the pool allows ${this.options.memoryLimitBytes}`);
    }
    const outcome = await this.runTasks(1, () => [oneThreadTask(lattice, params, control)], control, how);
    const memoryBytes = control.bytes + outcome.threadBytes;
    return {
      result: { ...(outcome.value as object), memory_bytes: memoryBytes } as KernelResultByType[OneThreadParams['type']],
      stats: {
        threads: 1,
        method: params.type === 'shortest_path' ? 'pairs' : params.type === 'components' ? 'flood' : params.type,
        build_ms: outcome.build_ms,
        run_ms: outcome.run_ms,
        shared_bytes: control.bytes,
        thread_bytes: outcome.threadBytes,
        cells: lattice.cells,
      },
    };
  }

  private async shortestPath(
    lattice: Lattice,
    params: ResolvedShortestPath,
    control: JobControl,
    strategy: 'auto' | 'bfs',
    how: RunMode,
  ): Promise<{ result: KernelResultByType['shortest_path']; stats: Omit<KernelRunStats, 'wall_ms'> }> {
    if (params.pairs !== null) {
      const pairs = params.pairs;
      return (await this.oneThreadKernel(lattice, { type: 'shortest_path', pairs, connectivity: params.connectivity }, control, how)) as {
        result: KernelResultByType['shortest_path'];
        stats: Omit<KernelRunStats, 'wall_ms'>;
      };
    }
    if (oneThread(params, lattice)) {
      // The dive and the bidirectional search step along the axes and wrap every axis or none;
      // one pair's search serves diagonals and per-axis boundaries.
      const pairs = [{ start: params.start, end: params.end }];
      const { result, stats: pairStats } = (await this.oneThreadKernel(lattice, { type: 'shortest_path', pairs, connectivity: params.connectivity }, control, how)) as {
        result: KernelResultByType['shortest_path'];
        stats: Omit<KernelRunStats, 'wall_ms'>;
      };
      const { pairs: answers, ...rest } = result;
      return { result: { ...rest, ...answers![0]! }, stats: pairStats };
    }
    if (params.start === params.end) {
      // Nothing to search; answering here costs O(dimensions).
      const result = { reachable: true, length: 0, path: Uint32Array.of(params.start), visited: 1, memory_bytes: control.bytes } as unknown as KernelResultByType['shortest_path'];
      return { result, stats: runStats(lattice, 'trivial', 0, control.bytes) };
    }
    const bound = stepLowerBound(lattice, coordsOf(lattice, params.start), coordsOf(lattice, params.end));
    const flat = control.threads === 1 && flatBfsFits(lattice);
    const twoSided = control.threads === 2 && twoSidedFits(lattice);
    if (strategy === 'auto' && bound < MAX_RETURNED_PATH_CELLS) {
      const budget = Math.ceil(this.options.diveBudgetPerStep * (bound + 1)) + 1024;
      // The search's state in the thread's own memory: the dive goes first in the same task. A
      // state the pool would allocate (past the WebAssembly memory), or a search too large for the
      // pool, waits until the dive has failed.
      const plan = flat ? flatBfsPlan(lattice) : null;
      if (plan !== null && plan.shared === 0 && control.bytes + (plan.wasm ?? 0) <= this.options.memoryLimitBytes) {
        return this.flatBfs(lattice, params, control, how, budget);
      }
      // Two sides: a short dive alone first (an easy lattice's lower-bound path touches little more
      // than its own cells, and then needs neither a second thread nor the search's state); past
      // it, side 0 dives with the whole budget while side 1 searches, so a failed dive costs no
      // wall time (two-sided-search.ts).
      const first = twoSided ? Math.min(budget, Math.ceil(this.options.quickDiveBudgetPerStep * (bound + 1))) : budget;
      const dive = await this.runTasks(
        1,
        () => [{ kind: 'dive', control: control.buffers, lattice, start: params.start, end: params.end, budget: first }],
        control,
        how,
      );
      const found = dive.value as Omit<KernelResultByType['shortest_path'], 'memory_bytes'> | null;
      if (found) {
        const memory = control.bytes + dive.threadBytes;
        return { result: { ...found, memory_bytes: memory }, stats: runStats(lattice, 'dive', 1, control.bytes, dive) };
      }
      if (twoSided) return this.twoSidedBfs(lattice, params, control, how, first < budget ? budget : undefined);
    }
    if (flat) return this.flatBfs(lattice, params, control, how);
    if (twoSided) return this.twoSidedBfs(lattice, params, control, how);
    const outcome = await this.runSlabKernel('bfs', lattice, params, control, how);
    const result = { ...(outcome.value as object), memory_bytes: outcome.memoryBytes } as KernelResultByType['shortest_path'];
    return { result, stats: outcome.stats('bfs') };
  }

  /** The search of the whole lattice in one thread (flat-bfs.ts), after the dive when `diveBudget` is given. */
  private async flatBfs(
    lattice: Lattice,
    params: ResolvedShortestPath,
    control: JobControl,
    how: RunMode,
    diveBudget?: number,
  ): Promise<{ result: KernelResultByType['shortest_path']; stats: Omit<KernelRunStats, 'wall_ms'> }> {
    const plan = flatBfsPlan(lattice);
    const sharedBytes = plan.shared + control.bytes;
    const workingBytes = sharedBytes + (plan.wasm ?? 0);
    if (workingBytes > this.options.memoryLimitBytes) {
      throw new KernelError('too_large', `the run needs ${workingBytes} bytes of working memory; the pool allows ${this.options.memoryLimitBytes}`);
    }
    const { start, end } = params;
    let state: SharedArrayBuffer | null = null;
    let outcome: SlabsOutcome;
    try {
      // The task builder passed inline: a named closure costs a defineProperty per run under tsx (keepNames).
      outcome = await this.runTasks(
        1,
        () => {
          state = plan.shared > 0 ? this.sharedBuffers.take(plan.shared) : null;
          return [{ kind: 'flat_bfs', control: control.buffers, lattice, start, end, state, ...(diveBudget === undefined ? {} : { diveBudget }) }];
        },
        control,
        how,
      );
    } finally {
      // The task has ended (or never started): no thread holds the state any more.
      if (state !== null) this.sharedBuffers.give(state);
    }
    if (outcome.dived) {
      const result = { ...(outcome.value as object), memory_bytes: control.bytes + outcome.threadBytes } as KernelResultByType['shortest_path'];
      return { result, stats: { threads: 1, method: 'dive', build_ms: 0, run_ms: outcome.run_ms, shared_bytes: control.bytes, thread_bytes: outcome.threadBytes, cells: lattice.cells } };
    }
    const memoryBytes = sharedBytes + outcome.threadBytes;
    return {
      result: { ...(outcome.value as object), memory_bytes: memoryBytes } as KernelResultByType['shortest_path'],
      stats: {
        threads: 1,
        method: 'bfs',
        build_ms: outcome.build_ms,
        run_ms: outcome.run_ms,
        shared_bytes: sharedBytes,
        thread_bytes: outcome.threadBytes,
        cells: lattice.cells,
      },
    };
  }

  /** The search with its two sides in two threads (two-sided-bfs.ts). */
  private async twoSidedBfs(
    lattice: Lattice,
    params: ResolvedShortestPath,
    control: JobControl,
    how: RunMode,
    diveBudget?: number,
  ): Promise<{ result: KernelResultByType['shortest_path']; stats: Omit<KernelRunStats, 'wall_ms'> }> {
    // 3-D lattices from twoSidedBrickMinCells keep their state in bricks (two-sided-bricks.ts).
    const bricks = lattice.cells >= this.options.twoSidedBrickMinCells ? twoSidedBricksLayout(lattice) : null;
    const sharedBytes = (bricks === null ? twoSidedBytes(lattice)! : twoSidedBricksBytes(bricks)) + control.bytes;
    if (sharedBytes > this.options.memoryLimitBytes) {
      throw new KernelError('too_large', `the run needs ${sharedBytes} bytes of working memory; the pool allows ${this.options.memoryLimitBytes}`);
    }
    const { start, end } = params;
    // Taken once both threads are free: the pool's kept memory when it is large enough (no run
    // holds it meanwhile), else a fresh one; kept afterwards up to KEPT_TWO_SIDED_BYTES.
    let memory: SharedWasmMemory | null = null;
    const tasks = (): KernelTask[] => {
      const taken = bricks === null ? twoSidedMemory(lattice, undefined, this.keptTwoSided) : twoSidedBricksMemory(bricks, undefined, this.keptTwoSided);
      if (taken === this.keptTwoSided) this.keptTwoSided = null;
      memory = taken;
      const layout = bricks === null ? {} : { bricks: true as const };
      const dive = diveBudget === undefined ? {} : { diveBudget };
      return ([0, 1] as const).map((side) => ({ kind: 'two_sided_bfs' as const, control: control.buffers, lattice, start, end, side, memory: taken, ...layout, ...dive }));
    };
    let outcome: SlabsOutcome;
    try {
      outcome = await this.runTasks(2, tasks, control, how);
    } finally {
      const used = memory as SharedWasmMemory | null;
      if (used !== null && used.buffer.byteLength <= KEPT_TWO_SIDED_BYTES && (this.keptTwoSided === null || this.keptTwoSided.buffer.byteLength < used.buffer.byteLength)) {
        this.keptTwoSided = used;
      }
    }
    const memoryBytes = sharedBytes + outcome.threadBytes;
    return {
      result: { ...(outcome.value as object), memory_bytes: memoryBytes } as KernelResultByType['shortest_path'],
      stats: { threads: 2, method: outcome.dived ? 'dive' : 'bfs', build_ms: outcome.build_ms, run_ms: outcome.run_ms, shared_bytes: sharedBytes, thread_bytes: outcome.threadBytes, cells: lattice.cells, layout: bricks === null ? 'rows' : 'bricks' },
    };
  }

  /** Plans slabs, allocates their shared arrays and runs one task per slab. */
  private async runSlabKernel(
    kernel: SlabKernel,
    lattice: Lattice,
    params: ResolvedParams,
    control: JobControl,
    how: RunMode,
    bufferOptions: SlabBufferOptions = {},
  ): Promise<
    SlabsOutcome & { memoryBytes: number; buffers: SlabBuffersByKernel[SlabKernel] | undefined; stats: (method: KernelRunStats['method']) => Omit<KernelRunStats, 'wall_ms'> }
  > {
    const slabs = planSlabs(lattice, control.threads);
    const sharedBytes = slabBufferBytes(kernel, lattice, slabs, bufferOptions) + control.bytes;
    const full = params.type === 'components' && params.connectivity === 'full';
    const workingBytes = sharedBytes + slabWasmBytes(kernel, lattice, slabs, full);
    if (workingBytes > this.options.memoryLimitBytes) {
      throw new KernelError(
        'too_large',
        `the run needs ${workingBytes} bytes of working memory; the pool allows ${this.options.memoryLimitBytes}`,
      );
    }
    // Allocated once the run's threads are free: a run waiting for threads holds no slabs.
    let buffers: SlabBuffersByKernel[SlabKernel] | undefined;
    const tasks = (): KernelTask[] => {
      buffers = allocateSlabBuffers(kernel, lattice, slabs, bufferOptions, this.sharedBuffers);
      const base = { control: control.buffers, lattice, slabs };
      return slabs.map((_, slab): KernelTask => {
        switch (kernel) {
          case 'bfs': {
            const { start, end } = params as ResolvedShortestPath;
            return { kind: 'bfs', ...base, slab, start, end, buffers: buffers as never };
          }
          case 'components':
            return { kind: 'components', ...base, slab, buffers: buffers as never, ...(full ? { connectivity: 'full' as const } : {}) };
          case 'diffusion':
            return { kind: 'diffusion', ...base, slab, params: params as never, buffers: buffers as never };
        }
      });
    };
    let outcome: SlabsOutcome;
    try {
      outcome = await this.runTasks(slabs.length, tasks, control, how);
    } finally {
      // Every task has ended: the buffers are free for the next run (the kept field stays the caller's).
      if (buffers !== undefined) releaseSlabBuffers(buffers, this.sharedBuffers);
    }
    const memoryBytes = sharedBytes + outcome.threadBytes;
    return {
      ...outcome,
      memoryBytes,
      buffers,
      stats: (method) => ({
        threads: slabs.length,
        method,
        build_ms: outcome.build_ms,
        run_ms: outcome.run_ms,
        shared_bytes: sharedBytes,
        thread_bytes: outcome.threadBytes,
        cells: lattice.cells,
      }),
    };
  }

  /**
   * Runs a run's `count` tasks together (they may meet at barriers, so all their threads are
   * reserved first; `build` makes the tasks, allocating their buffers, only then), and turns the
   * answers into one outcome or one error. An inline run's single task runs here, on the
   * caller's thread.
   */
  private async runTasks(count: number, build: () => KernelTask[], control: JobControl, how: RunMode): Promise<SlabsOutcome> {
    const piscina = this.piscina;
    if (!piscina || this.currentState !== 'running') throw new KernelError('pool_closed');
    if (how.inline && count === 1) {
      if (how.signal.aborted || control.cancelled) throw new KernelError('cancelled');
      return outcomeOf([{ status: 'fulfilled', value: runKernelTask(build()[0] as KernelTask) }]);
    }
    await this.slots.acquire(count, how.signal);
    let settled: PromiseSettledResult<TaskEnvelope>[];
    try {
      mark('acquired');
      const tasks = build();
      mark('built');
      settled = await Promise.allSettled(
        tasks.map((task) =>
          piscina.run(task).then(resolvedMark, (err: unknown) => {
            // A dead thread never reaches the barrier: release its siblings.
            control.fail();
            throw err;
          }),
        ),
      );
    } finally {
      this.slots.release(count);
    }
    mark('settled');
    return outcomeOf(settled);
  }

  /**
   * Stops the pool: refuses new runs, lets running ones finish for `closeTimeoutMs`, cancels
   * what is left, then terminates the threads. A second call returns the same promise.
   */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    await this.startPromise?.catch(() => undefined);
    this.currentState = 'closing';
    this.slots.rejectWaiting(new KernelError('pool_closed'));
    const running = (): Promise<unknown> => Promise.allSettled([...this.active].map((entry) => entry.done));
    if (!(await settlesWithin(running(), this.options.closeTimeoutMs))) {
      for (const entry of this.active) entry.control.cancel();
      await settlesWithin(running(), CANCEL_GRACE_MS);
    }
    const piscina = this.piscina;
    this.piscina = null;
    if (piscina && !(await settlesWithin(piscina.close(), this.options.closeTimeoutMs))) await piscina.destroy();
    this.currentState = 'closed';
  }
}

/**
 * A run computed on the caller's thread. A class rather than an object literal: under tsx (esbuild's
 * keepNames) every arrow bound to a name is named by a defineProperty call, once per run.
 */
class InlineRun<T extends KernelType> implements KernelRun<T> {
  readonly inline = true;

  constructor(
    readonly control: JobControl,
    readonly outcome: Promise<KernelOutcome<T>>,
  ) {}

  get progress(): number {
    return this.control.progress;
  }

  cancel(): void {
    this.control.cancel();
  }
}

/** A thread's answer as it arrives, marked for the timelines (timeline-marks.ts). */
function resolvedMark(envelope: TaskEnvelope): TaskEnvelope {
  mark('resolved');
  return envelope;
}

/** An outcome's result (a function, not an arrow per run: see InlineRun). */
function resultOf<T extends KernelType>(outcome: KernelOutcome<T>): KernelResultByType[T] {
  return outcome.result;
}

/** The task of a kernel that runs in one thread. */
function oneThreadTask(lattice: Lattice, params: OneThreadParams, control: JobControl): KernelTask {
  switch (params.type) {
    case 'distance_field':
      return { kind: 'distance_field', control: control.buffers, lattice, params };
    case 'min_cost_path':
      return { kind: 'min_cost_path', control: control.buffers, lattice, params };
    case 'shortest_path':
      return { kind: 'path_pairs', control: control.buffers, lattice, pairs: params.pairs, connectivity: params.connectivity };
    case 'components':
      return { kind: 'flood_components', control: control.buffers, lattice, connectivity: params.connectivity };
    case 'percolation':
      return { kind: 'percolation', control: control.buffers, lattice, params };
  }
}

/** A search's stats when it ended without a whole-lattice search (the trivial answer, the dive). */
function runStats(lattice: Lattice, method: KernelRunStats['method'], threads: number, shared: number, outcome?: SlabsOutcome): Omit<KernelRunStats, 'wall_ms'> {
  return {
    threads,
    method,
    build_ms: outcome?.build_ms ?? 0,
    run_ms: outcome?.run_ms ?? 0,
    shared_bytes: shared,
    thread_bytes: outcome?.threadBytes ?? 0,
    cells: lattice.cells,
  };
}

/** The answers of a run's tasks as one outcome, or the one error that explains the failure. */
function outcomeOf(settled: PromiseSettledResult<TaskEnvelope>[]): SlabsOutcome {
  let failure: { code: string; message: string; secondary: boolean } | null = null;
  let crash: unknown = null;
  const outcome: SlabsOutcome = { value: null, threadBytes: 0, build_ms: 0, run_ms: 0 };
  settled.forEach((entry, index) => {
    if (entry.status === 'rejected') {
      crash ??= entry.reason;
      return;
    }
    const envelope = entry.value;
    if (!envelope.ok) {
      if (failure === null || (failure.secondary && !envelope.error.secondary)) failure = envelope.error;
      return;
    }
    // Slab 0 answers, or else the first that did (components: whichever thread merged).
    if (index === 0 || (outcome.value === null && envelope.value !== null)) {
      outcome.value = envelope.value;
      if (envelope.dived) outcome.dived = true;
    }
    outcome.threadBytes += envelope.threadBytes;
    outcome.build_ms = Math.max(outcome.build_ms, envelope.timings.build_ms);
    outcome.run_ms = Math.max(outcome.run_ms, envelope.timings.run_ms);
  });
  if (crash !== null) throw new KernelError('kernel_failed', `a kernel thread died: ${String(crash)}`, { cause: crash });
  const failed = failure as { code: string; message: string } | null;
  if (failed !== null) {
    if (failed.code === 'cancelled') throw new KernelError('cancelled');
    throw new KernelError('kernel_failed', failed.message);
  }
  return outcome;
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(
      () => true,
      () => true,
    ), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether a run goes to one thread whatever its size: the kernels without slabs, and the `full`
 * connectivity (components: only where its WebAssembly labelling does not fit) or a per-axis
 * (`mixed`) boundary, which the slab kernels do not serve.
 */
function oneThread(params: ResolvedParams, lattice: Lattice): boolean {
  const general = lattice.boundary === 'mixed';
  switch (params.type) {
    case 'distance_field':
    case 'min_cost_path':
    case 'percolation':
      return true;
    case 'components':
      return general || (params.connectivity !== 'axis' && !labellingWasmFits(lattice.shape, true));
    case 'shortest_path':
      return params.pairs !== null || general || params.connectivity !== 'axis';
    case 'diffusion':
      return false;
  }
}
