/**
 * Runs one fetched job from start to its end state: the job row decides whether the attempt runs
 * and which final state is written (starts and final states group-committed with group-commit.ts),
 * Redis is told afterwards, and failures end the job, retry it with backoff or hand it back on
 * shutdown. See docs/architecture.md › Losing nothing and › Failures and retries.
 */
import type { Job } from 'bullmq';
import type { Db } from '../shared/db.ts';
import { toError } from '../shared/errors.ts';
import { computeCells } from '../shared/jobs/lattice-checks.ts';
import { bodyProgress } from '../shared/jobs/job-body.ts';
import {
  type FinishAttemptInput,
  finishAttempts,
  finishUnheardAttempts,
  type FinishedJob,
  HEARD,
  type FinishedRow,
  readJobsToRun,
  recordProgress,
  refundChunk,
  requeueAttempt,
  raiseAttempts,
  startAttempts,
  startChunk,
  startChunkJob,
  chunkJobAttempt,
} from '../shared/jobs/transitions.ts';
import type { JobError, JobRow } from '../shared/jobs/types.ts';
import { isLatticeValidationError } from '../shared/lattice/errors.ts';
import type { KernelType } from '../shared/lattice/types.ts';
import type { Logger } from '../shared/logger.ts';
import { jobQueueWait, jobRunTime, jobsFinished, kernelCells, workerWriteBatchSize } from '../shared/metrics.ts';
import { publishJobUpdate, publishJobUpdates } from '../shared/queues/job-updates.ts';
import { PIPELINE_JOB_OPTIONS } from '../shared/queues/producer.ts';
import { markTenantReady } from '../shared/queues/ready-set.ts';
import { type PipelineJobData, TenantQueues } from '../shared/queues/tenant-queues.ts';
import type { RedisClient } from '../shared/redis.ts';
import type { DeliveryDispatcher } from '../shared/webhooks/job-events.ts';
import { runsPlainInline } from '../shared/jobs/coalesced-entries.ts';
import { wantsArtefact } from '../shared/jobs/job-artefact-names.ts';
import { ChunkTally } from './chunk-tally.ts';
import { GroupCommit } from './group-commit.ts';
import { JobLatticeLoader } from './job-lattice.ts';
import { obstacleMapId, ObstacleMapLoader } from './obstacle-maps.ts';
import type { SlabLabeller } from './component-label-stream.ts';
import { JobArtefactWriter, type KernelArrays, type PreparedArtefacts } from './job-artefacts.ts';
import type { LatticeSpec } from '../shared/lattice/types.ts';
import { createBlobStore, type BlobConfig } from '../shared/blobs/index.ts';
import { isKernelError } from './kernels/kernel-errors.ts';
import { retryDelayMs } from './retry-backoff.ts';
import type { TenantPlan } from './tenant-plans.ts';
import type { UsageBuffer } from './usage-buffer.ts';

/** What runs kernels: the piscina pool (`KernelPool`), or a stand-in in tests. */
export interface KernelRunner {
  run(
    type: KernelType,
    spec: unknown,
    params: unknown,
    options: {
      signal?: AbortSignal;
      onProgress?: (progress: number) => void;
      obstacleMap?: Uint8Array;
      /** diffusion: hands over the whole final field (per slab) when asked for (KernelRunOptions.onField). */
      onField?: (slabs: readonly Float32Array[]) => void;
      /** Paths as CellPaths, written as coordinates only with the result (KernelRunOptions.pathCells). */
      pathCells?: boolean;
    },
  ): Promise<object>;
  /**
   * Runs a tiny job on the caller's thread and settles with its result, or returns undefined
   * without running it when it would not run inline (KernelPool.runInline). Absent: every job
   * takes `run`.
   */
  runInline?(type: KernelType, spec: unknown, params: unknown, options: { obstacleMap?: Uint8Array; pathCells?: boolean }): Promise<object> | undefined;
  /** Labels a slab for the component-labels artefact in a thread (absent: on the caller's thread). */
  labelSlab?: SlabLabeller;
  /** Threads that label slabs at once. */
  readonly threads?: number;
}

/** Why a running job is being stopped by its worker. */
export type StopReason = 'cancel' | 'timeout' | 'shutdown';

/** A job this process holds: fetched from BullMQ, locked by `token`. */
export interface HeldJob {
  id: string;
  tenantId: string;
  token: string;
  job: Job<PipelineJobData>;
  plan: TenantPlan;
  abort: AbortController;
  stopReason?: StopReason;
  /** The attempt number once the row says the job is running here. */
  attempt?: number;
  /** When the lock was last extended (ms). */
  lockedAt: number;
  /** A chunk entry: the rows it marked `running` and runs now (heartbeats and cancels go to them). */
  rowIds?: Set<string>;
  /** A chunk entry: rows whose cancel arrived while the chunk runs. */
  cancelled?: Set<string>;
  /** A chunk entry: the attempt whose kernel runs now. */
  current?: Attempt;
}

/**
 * One job's attempt on this worker: a single entry's job, or one row of a chunk (`inChunk`),
 * whose entry BullMQ is told about once, when the whole chunk is done.
 */
interface Attempt {
  held: HeldJob;
  row: JobRow;
  abort: AbortController;
  stopReason?: StopReason;
  inChunk: boolean;
  /** When the kernel started (performance.now()): a chunk job's final write records its run time. */
  kernelAt?: number;
  /** Called once when the kernel has ended (a chunk's next job may start); cleared when called. */
  kernelEnded?: () => void;
}

export interface JobRunnerContext {
  db: Db;
  /** Where blob bytes live (BLOB_BACKEND and its settings). @defaultValue PostgreSQL */
  blobs?: BlobConfig;
  connection: RedisClient;
  prefix: string;
  workerId: string;
  kernels: KernelRunner;
  logger: Logger;
  dispatcher?: DeliveryDispatcher;
  /** Where compute usage of completed jobs goes. */
  usage: Pick<UsageBuffer, 'add'>;
  /**
   * Most jobs one start or final write covers (group commit).
   * @defaultValue 64
   */
  writeBatchMax?: number;
}

/** A final state to write, with a completed job's artefacts (written first, in the same transaction). */
type FinishInput = FinishAttemptInput & { artefacts?: PreparedArtefacts };

/** What JobArtefactWriter.prepare says of a completed job's full results. */
type PreparedOutcome = Awaited<ReturnType<JobArtefactWriter['prepare']>>;

/** A job to mark running. */
interface StartRequest {
  tenantId: string;
  jobId: string;
}

/** A chunk as taken: its attempt, and its rows still to run (undefined: final or gone), in its order. */
interface TakenChunk {
  attempt: number;
  rows: Array<JobRow | undefined>;
}

/** The cancel signal of a chunk's inline job: never aborted (nothing holds the job to stop it). */
const NO_STOP = new AbortController();

/** What the entry of its own carries for a job leaving a shared entry (a chunk's, or tiny submissions'). */
function ownEntryData(row: JobRow): PipelineJobData {
  return { tenant_id: row.tenant_id, ...(row.memory_bytes === null ? {} : { memory_bytes: Number(row.memory_bytes) }) };
}

/** A job's wait from submit to its start, in s (a chunk's row records no start: its wait ends now). */
function queueWaitSeconds(row: JobRow): number {
  return (row.queue_wait_ms ?? Date.now() - row.created_at.getTime()) / 1000;
}

/** How often progress goes to the row (pollers) and to the job's channel (streams), in ms. */
const PROGRESS_DB_MS = 1000;
const PROGRESS_PUBLISH_MS = 200;

export class JobRunner {
  /** Starts of jobs fetched at about the same time, written by one statement. */
  private readonly starts: GroupCommit<StartRequest, JobRow | undefined>;
  /** Rows of single jobs fetched at about the same time, read by one statement (the tiny ones are never started). */
  private readonly reads: GroupCommit<StartRequest, JobRow | undefined>;
  /** Final states of jobs ending at about the same time, written by one transaction. */
  private readonly finishes: GroupCommit<FinishInput, FinishedJob<FinishedRow> | undefined>;
  /** Specs of jobs on stored lattices, by version. */
  private readonly lattices: JobLatticeLoader;
  private readonly maps: ObstacleMapLoader;
  private readonly artefacts: JobArtefactWriter;

  constructor(private readonly ctx: JobRunnerContext) {
    const maxBatch = ctx.writeBatchMax ?? 64;
    this.lattices = new JobLatticeLoader(ctx.db);
    const blobs = createBlobStore(ctx.db, ctx.blobs ?? { BLOB_BACKEND: 'postgres' }, false);
    this.maps = new ObstacleMapLoader(blobs);
    const { kernels } = ctx;
    this.artefacts = new JobArtefactWriter(
      ctx.db,
      blobs,
      kernels.labelSlab ? { labelSlab: (slab, signal) => kernels.labelSlab!(slab, signal), threads: kernels.threads ?? 1 } : undefined,
    );
    this.starts = new GroupCommit({
      write: (jobs) => startAttempts(ctx.db, ctx.workerId, jobs),
      maxBatch,
      key: (job) => job.jobId,
      onBatch: (size) => workerWriteBatchSize.observe({ write: 'start' }, size),
      gatherTurn: true,
    });
    this.reads = new GroupCommit({
      write: (jobs) => readJobsToRun(ctx.db, jobs),
      maxBatch,
      key: (job) => job.jobId,
      onBatch: (size) => workerWriteBatchSize.observe({ write: 'read' }, size),
      gatherTurn: true,
    });
    this.finishes = new GroupCommit({
      write: async (items) => {
        const finished = await this.writeFinals(items);
        // The state versions first, before any job of the group is acknowledged or its webhooks
        // sent (finish): a client told of the end that polls another API process must not find
        // the cached running state there. One Redis call for the group (publishJobUpdates).
        await publishJobUpdates(
          ctx.connection,
          ctx.prefix,
          finished.flatMap((job) => (job ? [{ id: job.row.id, status: job.row.status, progress: bodyProgress(job.row.progress), version: job.row.state_version }] : [])),
          ctx.logger,
        );
        return finished;
      },
      maxBatch,
      key: (item) => item.jobId,
      onBatch: (size) => workerWriteBatchSize.observe({ write: 'finish' }, size),
      gatherTurn: true,
    });
  }

  /**
   * A group's final states: when they need nothing more than their own statement (no artefact
   * blob to write first, no endpoint to hear of them), one statement outside a transaction — no
   * BEGIN, COMMIT or knex transaction for a group of tiny jobs; otherwise a transaction with their
   * artefacts and webhook deliveries, as before. A group is written whole by one or the other
   * (a failed write committed none of it). Answers in the order of `items`.
   */
  private async writeFinals(items: readonly FinishInput[]): Promise<Array<FinishedJob<FinishedRow> | undefined>> {
    if (items.some((item) => item.artefacts !== undefined)) return this.writeFinalsInTransaction(items);
    const answers = await finishUnheardAttempts(this.ctx.db, items, this.ctx.workerId);
    return answers === HEARD ? this.writeFinalsInTransaction(items) : answers;
  }

  /** Final states with their artefacts and webhook deliveries, in one transaction. */
  private writeFinalsInTransaction(items: readonly FinishInput[]): Promise<Array<FinishedJob<FinishedRow> | undefined>> {
    const { ctx } = this;
    return ctx.db.transaction(async (trx) => {
      // The full results go before the final states, so a completed job's artefacts are there to list.
      await this.artefacts.writeMany(trx, items.flatMap((item) => (item.artefacts ? [item.artefacts] : [])), ctx.logger);
      return finishAttempts(trx, items, ctx.workerId);
    });
  }

  /** Starts and final states waiting for the next batch write. */
  get waitingWrites(): number {
    return this.starts.waiting + this.finishes.waiting;
  }

  async run(held: HeldJob): Promise<void> {
    const chunk = held.job.data?.job_ids;
    if (chunk) return this.runChunk(held, chunk);
    if (this.ctx.kernels.runInline !== undefined && (await this.runTiny(held))) return;
    const row = await this.starts.submit({ tenantId: held.tenantId, jobId: held.id });
    if (!row) {
      // Cancelled while queued, finished by an earlier attempt, or deleted: never run it again.
      await this.ack(held, 'dropped');
      return;
    }
    held.attempt = row.attempts;
    const attempt: Attempt = { held, row, abort: held.abort, inChunk: false };
    held.current = attempt;
    await this.runStarted(attempt);
  }

  /**
   * A single job whose kernel runs inline takes the chunk's fast path (docs/architecture.md › The
   * job pipeline): its row is read, not started, the kernel answers before the event loop turns,
   * and the final write records the attempt, start and run time, so a tiny job costs one write,
   * not two. Its attempt is one more than the row records, and at least one more than the times
   * its entry came back from a lost worker (BullMQ's stalled count: a worker killed here recorded
   * nothing). Returns false, having written nothing, when the job is not one for this path (too
   * large to run inline, a cancel asked, attempts exhausted, a kernel error, an artefact to keep):
   * the one-job path then starts and runs it.
   */
  private async runTiny(held: HeldJob): Promise<boolean> {
    const row = await this.reads.submit({ tenantId: held.tenantId, jobId: held.id });
    if (!row) {
      // Cancelled while queued, finished by an earlier attempt, or deleted: never run it again.
      await this.ack(held, 'dropped');
      return true;
    }
    if (held.stopReason === 'shutdown') {
      // Shutting down before it ran: the row was not written, the entry goes back as it is.
      await this.tell(held, 'hand back', () => held.job.moveToWait(held.token));
      await markTenantReady(this.ctx.connection, this.ctx.prefix, held.tenantId, 0);
      return true;
    }
    const lost = held.job.stalledCounter ?? 0;
    const recorded = row.attempts;
    row.attempts = Math.max(recorded + 1, lost + 1);
    const pending: Array<Promise<void>> = [];
    const tally = new ChunkTally(held.plan.code);
    const ran = await this.runInlineJobs(held, [row], 0, pending, tally, true);
    if (ran === 0) {
      // The one-job path counts from the row: first record the attempts lost workers did not,
      // so a job that keeps killing its worker still ends after max_attempts, not twice that.
      if (lost > recorded) await raiseAttempts(this.ctx.db, { tenantId: held.tenantId, jobId: held.id, attempts: lost });
      return false;
    }
    try {
      await Promise.all(pending);
    } finally {
      tally.flush();
    }
    await this.tell(held, 'complete', () => held.job.moveToCompleted('completed', held.token, false));
    return true;
  }

  /**
   * Runs a chunk's jobs one after another (docs/architecture.md › Batches): one statement counts
   * the chunk's attempt and reads its unfinished rows (they stay `queued`; a kernel still running
   * when the event loop turns marks its row `running`), their final states join the group commit
   * as they end (the next kernel runs meanwhile), and BullMQ hears once, when every row is final
   * or handed on. A job that must be retried leaves the chunk for an entry of its own; on shutdown
   * the rest go back with the entry and the chunk's attempt is taken back. The entry of tiny single
   * submissions written together (`coalesced`) runs the same way, taken as {@link takeCoalesced} says.
   */
  private async runChunk(held: HeldJob, jobIds: readonly string[]): Promise<void> {
    const coalesced = held.job.data.coalesced === true;
    const chunk = coalesced ? await this.takeCoalesced(held, jobIds) : await this.startBatchChunk(held, jobIds);
    // Each row as if started for its attempt in this chunk (the row itself is not written; the
    // object is this chunk's own, so it is changed in place rather than copied).
    const started: JobRow[] = [];
    for (const row of chunk.rows) {
      if (row === undefined) continue;
      row.attempts = chunkJobAttempt(row, chunk.attempt);
      started.push(row);
    }
    held.rowIds = new Set();
    held.cancelled = new Set();
    held.attempt = 0;
    const pending: Array<Promise<void>> = [];
    const tally = new ChunkTally(held.plan.code);
    const elsewhere: JobRow[] = [];
    for (let at = 0; at < started.length; ) {
      // Shutting down: this row and the ones after it (still `queued`) go back with the entry.
      if (held.abort.signal.aborted) break;
      // Tiny jobs run back to back on this thread, their final states handed over together.
      const ran = await this.runInlineJobs(held, started, at, pending, tally);
      if (ran > 0) {
        at += ran;
        continue;
      }
      const row = started[at++]!;
      if (coalesced && !this.endsWithoutKernel(held, row)) {
        elsewhere.push(row);
        continue;
      }
      const attempt: Attempt = { held, row, abort: new AbortController(), inChunk: true };
      if (held.cancelled.has(row.id)) attempt.stopReason = 'cancel';
      held.current = attempt;
      let kernelEnded!: () => void;
      const turn = new Promise<void>((resolve) => (kernelEnded = resolve));
      // The next job's kernel runs while this one's final state waits for its group commit.
      const run = this.runStarted(attempt, () => {
        if (held.current === attempt) held.current = undefined;
        kernelEnded();
      });
      pending.push(run.finally(() => held.rowIds?.delete(row.id)));
      await turn;
    }
    try {
      await Promise.all(pending);
    } finally {
      tally.flush();
    }
    if (!held.abort.signal.aborted) {
      if (elsewhere.length > 0) await this.queueAlone(held, elsewhere, chunk.attempt);
      return this.ack(held, 'chunk done');
    }
    // A coalesced entry's attempt is its stalled count, which a hand-back does not raise.
    if (!coalesced) await refundChunk(this.ctx.db, held.id, chunk.attempt).catch((err: unknown) => this.ctx.logger.warn({ err, jobId: held.id }, 'could not refund a chunk attempt'));
    await this.tell(held, 'hand back', () => held.job.moveToWait(held.token));
    await markTenantReady(this.ctx.connection, this.ctx.prefix, held.tenantId, 0);
  }

  /** A row the one-job path ends without running its kernel: a cancel asked, or its attempts exhausted. */
  private endsWithoutKernel(held: HeldJob, row: JobRow): boolean {
    return held.cancelled?.has(row.id) === true || row.cancel_requested_at != null || row.attempts > row.max_attempts;
  }

  /**
   * Gives jobs of a coalesced entry that do not run inline here (a worker whose
   * KERNEL_INLINE_MAX_CELLS is below the API's) entries of their own, as single submissions have:
   * run one after another in the entry, they would hold one of the tenant's concurrent slots where
   * its plan allows several, and a kernel's time where the fair fetcher counted microseconds. The
   * attempts its lost workers did not record go on the rows first, so the count goes on from them.
   * A failure is logged: the rows stay `queued`, and reconcile queues them.
   */
  private async queueAlone(held: HeldJob, rows: readonly JobRow[], attempt: number): Promise<void> {
    const { ctx } = this;
    try {
      const lost = attempt - 1;
      if (lost > 0) await Promise.all(rows.map((row) => raiseAttempts(ctx.db, { tenantId: held.tenantId, jobId: row.id, attempts: lost })));
      await this.retryEntries()
        .get(held.tenantId)
        .addBulk(rows.map((row) => ({ name: row.type, data: ownEntryData(row), opts: { ...PIPELINE_JOB_OPTIONS, jobId: row.id } })));
      await markTenantReady(ctx.connection, ctx.prefix, held.tenantId, 0);
    } catch (err) {
      ctx.logger.warn({ err, jobIds: rows.map((row) => row.id) }, 'could not queue jobs of a coalesced entry alone; reconcile will');
    }
  }

  /** Takes a batch chunk: counts its attempt in `job_chunks` and reads its unfinished rows, in one statement. */
  private startBatchChunk(held: HeldJob, jobIds: readonly string[]): Promise<TakenChunk> {
    workerWriteBatchSize.observe({ write: 'start' }, jobIds.length);
    return startChunk(this.ctx.db, this.ctx.workerId, held.id, jobIds.map((jobId) => ({ tenantId: held.tenantId, jobId })));
  }

  /**
   * Takes the entry of tiny single submissions written together (docs/architecture.md › The job
   * pipeline): its rows are read as a tiny single job's are (with the rows of other jobs fetched
   * meanwhile, one statement), and its attempt is one more than the times it came back from a lost
   * worker (BullMQ's stalled count), as a tiny single job's: nothing else recorded one.
   */
  private async takeCoalesced(held: HeldJob, jobIds: readonly string[]): Promise<TakenChunk> {
    const rows = await this.reads.submitMany(jobIds.map((jobId) => ({ tenantId: held.tenantId, jobId })));
    return { attempt: (held.job.stalledCounter ?? 0) + 1, rows };
  }

  /**
   * The chunk's fast path: runs `rows` from `from` on, while each is a job whose kernel runs
   * inline (KernelRunner.runInline: microseconds, ended before the event loop could turn), at
   * most a group commit's worth, and hands their final states to the group commit in one call
   * (its promise joins `pending`); returns how many rows it took (0: the row at `from` takes the
   * one-job path). Such a job needs none of a running job's apparatus: no cancel signal (nothing
   * can stop a run midway that never yields; a cancel asked before it is seen below, one asked
   * after it wins at the final write, which requires none), no runtime timer (it could fire only
   * after the run), no `running` state, no progress. Anything unusual — a cancel already asked, attempts
   * exhausted, a diffusion field or streamed labels to keep, a kernel error — takes the one-job path.
   */
  private async runInlineJobs(
    held: HeldJob,
    rows: readonly JobRow[],
    from: number,
    pending: Array<Promise<void>>,
    tally: ChunkTally,
    /** A kernel error leaves the job to the one-job path (a single entry: its retry keeps the entry) instead of deciding it here. */
    errorsElsewhere = false,
  ): Promise<number> {
    const { ctx } = this;
    const runInline = ctx.kernels.runInline;
    if (runInline === undefined) return 0;
    const max = ctx.writeBatchMax ?? 64;
    const items: FinishInput[] = [];
    const done: JobRow[] = [];
    let at = from;
    for (; at < rows.length && items.length < max; at++) {
      const row = rows[at]!;
      if (this.endsWithoutKernel(held, row) || !runsPlainInline(row)) break;
      const spec = row.lattice ?? (await this.lattices.specOf(row));
      const obstacleMap = obstacleMapId(spec) !== undefined ? await this.maps.bitsOf(row.tenant_id, spec) : undefined;
      const kernelAt = performance.now();
      const run = runInline.call(ctx.kernels, row.type, spec, row.params, { obstacleMap, pathCells: true });
      if (run === undefined) break;
      let result: Record<string, unknown>;
      try {
        result = (await run) as Record<string, unknown>;
      } catch (err) {
        if (errorsElsewhere) break;
        // A refused lattice or parameters, a kernel error: decided as for any job (finished alone).
        pending.push(this.failed({ held, row, abort: NO_STOP, inChunk: true, kernelAt }, err));
        continue;
      }
      const runMs = performance.now() - kernelAt;
      tally.ran(row.type, queueWaitSeconds(row), runMs / 1000, computeCells(row.type, row.cells, row.params));
      let artefacts: PreparedOutcome | undefined;
      try {
        artefacts = await this.artefacts.prepare(row, spec, obstacleMap, result);
      } catch (err) {
        ctx.logger.warn({ err, jobId: row.id, tenantId: row.tenant_id }, 'job artefacts not stored');
      }
      items.push({
        ...this.completion(result, artefacts),
        tenantId: row.tenant_id,
        jobId: row.id,
        attempt: row.attempts,
        inChunk: true,
        runMs,
      });
      done.push(row);
    }
    if (items.length > 0) pending.push(this.finishInlineJobs(held, done, items, tally));
    return at - from;
  }

  /**
   * Writes the final states of a chunk's inline jobs (completed) with the group commit, then, for
   * those written, counts them, adds their usage and dispatches their webhook deliveries at once;
   * a job whose completion was refused (a cancel came meanwhile) is cancelled, as in `runStarted`.
   */
  private async finishInlineJobs(held: HeldJob, rows: readonly JobRow[], items: readonly FinishInput[], tally: ChunkTally): Promise<void> {
    const { ctx } = this;
    const answers = await this.finishes.submitMany(items);
    const deliveryIds: string[] = [];
    const refused: Array<Promise<void>> = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const finished = answers[i];
      if (finished === undefined) {
        refused.push(this.cancelIfRequested({ held, row, abort: NO_STOP, inChunk: true }));
        continue;
      }
      tally.finished(row.type, 'completed');
      ctx.usage.add(row.tenant_id, computeCells(row.type, row.cells, row.params));
      for (const id of finished.deliveryIds) deliveryIds.push(id);
    }
    await Promise.all([...refused, deliveryIds.length > 0 ? ctx.dispatcher?.dispatch(deliveryIds) : undefined]);
  }

  /**
   * Marks a chunk job `running` once its kernel is seen running, then tells followers. Refused
   * (the job was cancelled or finished meanwhile, or a newer attempt owns it): the kernel stops.
   */
  private async markChunkJobRunning(attempt: Attempt): Promise<void> {
    const { ctx } = this;
    const { held, row } = attempt;
    let started: Awaited<ReturnType<typeof startChunkJob>>;
    try {
      started = await startChunkJob(ctx.db, ctx.workerId, { tenantId: row.tenant_id, jobId: row.id, attempt: row.attempts });
    } catch (err) {
      // The row stays `queued`; its final write records the attempt all the same.
      ctx.logger.warn({ err, jobId: row.id }, 'could not mark a chunk job running');
      return;
    }
    if (!started || started.cancelRequested) return this.stopAttempt(attempt, 'cancel');
    held.rowIds?.add(row.id);
    await publishJobUpdate(ctx.connection, ctx.prefix, { id: row.id, status: 'running', progress: 0, version: started.version }, ctx.logger);
  }

  private async runStarted(attempt: Attempt, kernelEnded?: () => void): Promise<void> {
    const { ctx } = this;
    const { held, row } = attempt;
    attempt.kernelEnded = kernelEnded;
    try {
      if (row.cancel_requested_at || attempt.stopReason === 'cancel') {
        this.endKernel(attempt);
        await this.finish(attempt, { status: 'cancelled' });
        return;
      }
      if (row.attempts > row.max_attempts) {
        this.endKernel(attempt);
        await this.finish(attempt, {
          status: 'failed',
          error: { code: 'attempts_exhausted', message: `The job was started ${row.max_attempts} times without finishing (its workers were lost)` },
        });
        return;
      }
      // A chunk's row records no start yet: its wait ends now.
      jobQueueWait.observe({ type: row.type, plan: held.plan.code }, queueWaitSeconds(row));
      // Followers hear about the start while the kernel runs (a publish never throws). A kernel that
      // answers before the event loop turns (a tiny job, run inline) was never seen running: only
      // its end is published, one message instead of two.
      // A chunk's job is marked running only then (its row was not written when the chunk started).
      const announce = setImmediate(() => {
        if (attempt.inChunk) return void this.markChunkJobRunning(attempt);
        void publishJobUpdate(ctx.connection, ctx.prefix, { id: row.id, status: 'running', progress: 0, version: row.state_version }, ctx.logger);
      });
      // The plan's runtime limit covers the kernel and the labels streamed after it (cleared below).
      const limitMs = held.plan.max_job_runtime_ms;
      const timer = limitMs >= 0 ? setTimeout(() => this.stopAttempt(attempt, 'timeout'), limitMs) : undefined;
      const started = performance.now();
      attempt.kernelAt = started;
      let result: Record<string, unknown>;
      let spec: LatticeSpec;
      let obstacleMap: Uint8Array | undefined;
      const arrays: KernelArrays = {};
      try {
        spec = await this.lattices.specOf(row);
        obstacleMap = await this.maps.bitsOf(row.tenant_id, spec);
        // The whole field costs 4 bytes a cell more: asked for only when the plan keeps it.
        const keepField = row.type === 'diffusion' && wantsArtefact(row, 'field') && (await this.artefacts.storesArtefacts(row.tenant_id));
        result = (await ctx.kernels.run(row.type, spec, row.params, {
          signal: attempt.abort.signal,
          onProgress: this.progressReporter(row),
          obstacleMap,
          // Paths stay cell indices (4 bytes a cell) until the result and its artefact are written.
          pathCells: true,
          ...(keepField ? { onField: (slabs: readonly Float32Array[]) => (arrays.field = slabs) } : {}),
        })) as Record<string, unknown>;
      } catch (err) {
        clearTimeout(timer);
        clearImmediate(announce);
        this.endKernel(attempt);
        await this.failed(attempt, err);
        return;
      }
      clearImmediate(announce);
      this.endKernel(attempt);
      jobRunTime.observe({ type: row.type, plan: held.plan.code }, (performance.now() - started) / 1000);
      const cells = computeCells(row.type, row.cells, row.params);
      kernelCells.inc({ type: row.type }, cells);
      // The full results are written in the final state's transaction (streamed labels just before
      // it, in their own). Losing them loses no job: the summary is the result; the failure is logged.
      let artefacts: PreparedOutcome | undefined;
      try {
        artefacts = await this.artefacts.prepare(row, spec, obstacleMap, result, arrays, attempt.abort.signal);
      } catch (err) {
        // Labels still streaming at the limit: the job timed out, as a kernel running that long would.
        if (attempt.stopReason === 'timeout') return void (await this.failed(attempt, err));
        ctx.logger.warn({ err, jobId: row.id, tenantId: row.tenant_id }, 'job artefacts not stored');
      } finally {
        clearTimeout(timer);
      }
      delete arrays.field;
      const done = await this.finish(attempt, this.completion(result, artefacts));
      if (done) ctx.usage.add(row.tenant_id, cells);
      // A cancel that came while the kernel was finishing wins: no result is kept.
      else await this.cancelIfRequested(attempt);
    } finally {
      this.endKernel(attempt);
    }
  }

  /**
   * A completed job's final state: the result keeps its summary and says where the full arrays
   * are (or that none were kept); small artefacts go in the result row itself (no blob rows), the
   * others as blobs before it.
   */
  private completion(result: Record<string, unknown>, artefacts: PreparedOutcome | undefined): Pick<FinishInput, 'status' | 'result' | 'requireNoCancel' | 'artefacts' | 'inlineArtefacts'> {
    const inline = artefacts?.prepared ? this.artefacts.inlineOf(artefacts.prepared) : undefined;
    return {
      status: 'completed',
      result: artefacts?.said ? { ...result, artefacts: artefacts.said } : result,
      requireNoCancel: true,
      ...(inline ? { inlineArtefacts: inline } : { artefacts: artefacts?.prepared }),
    };
  }

  /**
   * Tells the chunk loop, once, that the attempt's kernel has ended. A method, not a closure per
   * job: under tsx (esbuild's keepNames) a named closure costs a defineProperty each time.
   */
  private endKernel(attempt: Attempt): void {
    const ended = attempt.kernelEnded;
    if (ended === undefined) return;
    attempt.kernelEnded = undefined;
    ended();
  }

  /**
   * Asks a running job to stop; the kernel notices within ~100 ms. On a chunk, a cancel names the
   * row (`jobId`) and stops only that job; a shutdown stops the chunk after its current job.
   */
  stop(held: HeldJob, reason: StopReason, jobId?: string): void {
    if (held.rowIds && reason === 'cancel' && jobId) {
      held.cancelled?.add(jobId);
      if (held.current?.row.id === jobId) this.stopAttempt(held.current, reason);
      return;
    }
    if (held.current) this.stopAttempt(held.current, reason);
    held.stopReason ??= reason;
    held.abort.abort(reason);
  }

  private stopAttempt(attempt: Attempt, reason: StopReason): void {
    attempt.stopReason ??= reason;
    attempt.abort.abort(reason);
  }

  private progressReporter(row: JobRow): (progress: number) => void {
    const { ctx } = this;
    let publishedAt = 0;
    let storedAt = Date.now();
    return (progress) => {
      const now = Date.now();
      if (progress >= 1) return;
      if (now - publishedAt >= PROGRESS_PUBLISH_MS) {
        publishedAt = now;
        void publishJobUpdate(ctx.connection, ctx.prefix, { id: row.id, status: 'running', progress }, ctx.logger);
      }
      if (now - storedAt >= PROGRESS_DB_MS) {
        storedAt = now;
        // Polls read progress from the row; the stored progress raises the job's state version.
        recordProgress(ctx.db, row.id, row.attempts, progress)
          .then((version) =>
            version === undefined ? undefined : publishJobUpdate(ctx.connection, ctx.prefix, { id: row.id, status: 'running', progress, version }, ctx.logger),
          )
          .catch((err: unknown) => ctx.logger.debug({ err, jobId: row.id }, 'could not record progress'));
      }
    };
  }

  /** Decides what an error means for the job. */
  private async failed(attempt: Attempt, err: unknown): Promise<void> {
    const { ctx } = this;
    const { held, row } = attempt;
    const stopped = isKernelError(err, 'cancelled') || attempt.abort.signal.aborted ? attempt.stopReason : undefined;
    if (stopped === 'cancel') return void (await this.finish(attempt, { status: 'cancelled' }));
    if (stopped === 'timeout') {
      const limit = held.plan.max_job_runtime_ms;
      return void (await this.finish(attempt, {
        status: 'failed',
        error: { code: 'timeout', message: `The job ran longer than the plan's limit of ${limit} ms` },
      }));
    }
    if (stopped === 'shutdown' || isKernelError(err, 'pool_closed')) return this.handBack(attempt);
    if (isLatticeValidationError(err)) {
      return void (await this.finish(attempt, { status: 'failed', error: { code: err.code, message: err.message } }));
    }
    if (isKernelError(err, 'too_large')) {
      return void (await this.finish(attempt, { status: 'failed', error: { code: 'too_large', message: toError(err).message } }));
    }
    // Infrastructure (a crashed thread, PostgreSQL or Redis failing): try again later.
    const error: JobError = { code: isKernelError(err) ? err.code : 'internal', message: toError(err).message };
    ctx.logger.warn({ err, jobId: row.id, attempt: row.attempts }, 'job attempt failed');
    if (row.attempts >= row.max_attempts) {
      return void (await this.finish(attempt, {
        status: 'failed',
        error: { code: 'attempts_exhausted', message: `Failed ${row.attempts} times; last error: ${error.message}` },
      }));
    }
    const delay = retryDelayMs(row.attempts);
    const version = await requeueAttempt(ctx.db, {
      tenantId: row.tenant_id,
      jobId: row.id,
      workerId: ctx.workerId,
      attempt: row.attempts,
      error,
      inChunk: attempt.inChunk,
    });
    if (version === undefined) return attempt.inChunk ? undefined : this.ack(held, 'superseded');
    const due = Date.now() + delay;
    if (attempt.inChunk) {
      // The retry leaves the chunk: an entry of its own, due after the backoff.
      await this.retryEntries()
        .get(row.tenant_id)
        .add(row.type, ownEntryData(row), { ...PIPELINE_JOB_OPTIONS, jobId: row.id, delay })
        .catch((err2: unknown) => ctx.logger.warn({ err: err2, jobId: row.id }, 'could not queue a retry; reconcile will'));
    } else await this.tell(held, 'delay', () => held.job.moveToDelayed(due, held.token));
    await markTenantReady(ctx.connection, ctx.prefix, row.tenant_id, due);
    await publishJobUpdate(ctx.connection, ctx.prefix, { id: row.id, status: 'queued', progress: 0, version }, ctx.logger);
  }

  /** Gives a job back to its queue (shutdown), without charging the attempt. */
  private async handBack(attempt: Attempt): Promise<void> {
    const { ctx } = this;
    const { held, row } = attempt;
    await this.refund(row);
    // A chunk's entry goes back once, after its loop (runChunk).
    if (attempt.inChunk) return;
    await this.tell(held, 'hand back', () => held.job.moveToWait(held.token));
    await markTenantReady(ctx.connection, ctx.prefix, row.tenant_id, 0);
    ctx.logger.info({ jobId: row.id }, 'job handed back to its queue (shutting down)');
  }

  /** Marks a row of this worker's attempt `queued` again without charging the attempt, and says so (state version first). */
  private async refund(row: JobRow): Promise<void> {
    const { ctx } = this;
    const version = await requeueAttempt(ctx.db, { tenantId: row.tenant_id, jobId: row.id, workerId: ctx.workerId, attempt: row.attempts, refund: true }).catch(
      (err: unknown) => void ctx.logger.warn({ err, jobId: row.id }, 'could not mark a handed-back job queued'),
    );
    if (version !== undefined) await publishJobUpdate(ctx.connection, ctx.prefix, { id: row.id, status: 'queued', progress: 0, version }, ctx.logger);
  }

  /** Queues for retries that leave a chunk, on the worker's connection. */
  private retryQueues: TenantQueues | undefined;
  private retryEntries(): TenantQueues {
    this.retryQueues ??= new TenantQueues(this.ctx.connection, this.ctx.prefix, this.ctx.logger);
    return this.retryQueues;
  }

  /** Releases the retry queues (not the connection). */
  async close(): Promise<void> {
    await this.retryQueues?.close();
  }

  /** After a completion was refused: the job was cancelled meanwhile, or another attempt owns it. */
  private async cancelIfRequested(attempt: Attempt): Promise<void> {
    const cancelled = await this.finish(attempt, { status: 'cancelled' });
    if (!cancelled && !attempt.inChunk) await this.ack(attempt.held, 'superseded');
  }

  /**
   * Writes a final state (only if this attempt still owns a running row; followers are told by
   * the write, once committed), then acknowledges the BullMQ job and dispatches the webhook deliveries. Returns
   * false when the row had moved on.
   */
  private async finish(attempt: Attempt, input: Pick<FinishInput, 'status' | 'error' | 'result' | 'requireNoCancel' | 'artefacts' | 'inlineArtefacts'>): Promise<boolean> {
    const { ctx } = this;
    const { held, row } = attempt;
    // Written with the final states of other jobs ending meanwhile; still decided for this row alone.
    const finished = await this.finishes.submit({
      ...input,
      tenantId: row.tenant_id,
      jobId: row.id,
      attempt: row.attempts,
      ...(attempt.inChunk ? { inChunk: true, runMs: attempt.kernelAt === undefined ? 0 : performance.now() - attempt.kernelAt } : {}),
    });
    if (!finished) {
      if (input.status !== 'completed' && !attempt.inChunk) await this.ack(held, 'superseded');
      return false;
    }
    jobsFinished.inc({ type: row.type, status: input.status, plan: held.plan.code });
    const error = input.status === 'failed' ? new Error(`${input.error?.code}: ${input.error?.message}`) : undefined;
    // The group's write has raised the job's state version and published its end already.
    // Independent of each other once the row is final.
    await Promise.all([
      attempt.inChunk
        ? undefined
        : error
          ? this.tell(held, 'fail', () => held.job.moveToFailed(error, held.token, false))
          : this.tell(held, 'complete', () => held.job.moveToCompleted(input.status, held.token, false)),
      finished.deliveryIds.length > 0 ? ctx.dispatcher?.dispatch(finished.deliveryIds) : undefined,
    ]);
    return true;
  }

  /** Acknowledges a BullMQ job without touching the row (someone else decided its state). */
  private async ack(held: HeldJob, why: string): Promise<void> {
    this.ctx.logger.debug({ jobId: held.id, why }, 'job acknowledged without running');
    await this.tell(held, 'acknowledge', () => held.job.moveToCompleted(why, held.token, false));
  }

  /**
   * Tells BullMQ how the job ended. The row already says so; if BullMQ refuses (the lock was lost
   * to another worker, or Redis is unreachable) the job comes back once and is dropped then.
   */
  private async tell(held: HeldJob, what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.ctx.logger.warn({ err, jobId: held.id }, `could not ${what} the queued job; the row has its state`);
    }
  }
}
