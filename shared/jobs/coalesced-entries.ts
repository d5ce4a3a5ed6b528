/**
 * Tiny single submissions written together share one queue entry (docs/architecture.md › The job
 * pipeline, "Tiny submissions share an entry"): a BullMQ entry costs about what a tiny job's
 * whole run does, so a group write's jobs that the worker will run inline are cut into entries
 * as a batch's small jobs are cut into chunks, within the same bounds.
 */
import { cutChunks } from './chunk-cut.ts';
import { wantsArtefact, type ArtefactRequest } from './job-artefact-names.ts';
import { computeCells } from './lattice-checks.ts';
import type { NewJob } from './repository.ts';

/**
 * A job whose results need nothing beyond its kernel's answer (no diffusion field, no streamed
 * labels): the only kind the inline fast path of a chunk or a tiny single job takes.
 */
export function runsPlainInline(job: ArtefactRequest): boolean {
  if (job.type === 'diffusion') return !wantsArtefact(job, 'field');
  if (job.type === 'components') return !wantsArtefact(job, 'labels');
  return true;
}

/**
 * Whether a worker runs the job on its own thread, as KernelPool.runInline decides
 * (KERNEL_INLINE_MAX_CELLS of work at most, 0 = never), with nothing to keep but its answer.
 */
export function runsInlineOnWorker(job: Pick<NewJob, 'type' | 'cells' | 'params' | 'artefacts'>, inlineMaxCells: number): boolean {
  return inlineMaxCells > 0 && computeCells(job.type, job.cells, job.params) <= inlineMaxCells && runsPlainInline(job);
}

/** The entry id of a group whose first job is `firstJobId`: never a row's id, nor a chunk's (`<batchId>.<n>`). */
export function coalescedEntryId(firstJobId: string): string {
  return `${firstJobId}.g`;
}

export interface CoalesceLimits {
  /** The workers' KERNEL_INLINE_MAX_CELLS (a shared setting: the API reads the same value). */
  inlineMaxCells: number;
  /** BATCH_CHUNK_MAX_JOBS and BATCH_CHUNK_MAX_CELLS: an entry holds no more than a chunk. */
  maxJobs: number;
  maxCells: number;
}

/**
 * Sets `queueEntry` on the jobs of one write that share an entry: those without an idempotency
 * key that run inline on a worker, in order, cut at `maxJobs` jobs and `maxCells` of compute; a
 * group of one is no group (its `queueEntry` is cleared, as is every other job's). A job written
 * again (a row data error splits a write) is grouped afresh.
 */
export function coalesceTinyJobs(jobs: readonly NewJob[], limits: CoalesceLimits): void {
  for (const job of jobs) job.queueEntry = null;
  const tiny = (job: NewJob): number | undefined =>
    job.idempotencyKey === null && runsInlineOnWorker(job, limits.inlineMaxCells) ? computeCells(job.type, job.cells, job.params) : undefined;
  for (const group of cutChunks(jobs, tiny, limits)) {
    if (group.length < 2) continue;
    const id = coalescedEntryId(group[0]!.id);
    for (const job of group) job.queueEntry = id;
  }
}
