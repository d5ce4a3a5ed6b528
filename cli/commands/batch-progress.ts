/**
 * Following batches with the jobs' progress view: a batch (or a sweep's several batches) is shown
 * as one job-like bar whose progress is final jobs over all jobs.
 */
import type { Batch, Job } from '../../client/index.ts';
import { CLIENT_EXIT } from './exit-codes.ts';
import { chooseViewMode, createProgressView, type ProgressView } from './progress-view.ts';
import type { Session } from './session.ts';

/** The counts of one or more batches added up. */
export type Counts = Batch['counts'];

function addCounts(a: Counts, b: Counts): Counts {
  const sum = { ...a };
  for (const key of Object.keys(b) as Array<keyof Counts>) sum[key] = (sum[key] ?? 0) + b[key];
  return sum;
}

/** The view's stand-in for a job: the bar, percent, elapsed time and ETA are all it reads. */
function asJob(id: string, createdAt: string, total: number, counts: Counts, done: boolean): Job {
  const finished = counts.completed + counts.failed + counts.cancelled;
  const started = finished > 0 || counts.running > 0;
  return {
    id,
    type: 'components',
    status: done ? 'completed' : started ? 'running' : 'queued',
    progress: total > 0 ? finished / total : 1,
    created_at: createdAt,
    started_at: started ? createdAt : null,
    finished_at: done ? new Date().toISOString() : null,
    error: null,
  } as unknown as Job;
}

/** The exit code of ended batches: 0 all completed, 1 any failed, 3 any cancelled (and none failed). */
export function exitCodeForCounts(counts: Counts): number {
  if (counts.failed > 0) return CLIENT_EXIT.failed;
  if (counts.cancelled > 0) return CLIENT_EXIT.cancelled;
  return CLIENT_EXIT.ok;
}

/**
 * Follows the batches one after the other (their events streams) until each is completed, showing
 * one bar for all of them; resolves with their final counts added up.
 */
export async function followBatches(session: Session, label: string, batches: readonly Batch[], options: { quiet?: boolean } = {}): Promise<Counts> {
  const view: ProgressView = createProgressView(chooseViewMode({ json: session.json, quiet: options.quiet }));
  const total = batches.reduce((n, b) => n + b.total, 0);
  const createdAt = batches[0]?.created_at ?? new Date().toISOString();
  let ended: Counts | undefined;
  for (const batch of batches) {
    let last = batch;
    const show = (current: Batch) => view.update(asJob(label, createdAt, total, ended ? addCounts(ended, current.counts) : current.counts, false));
    show(batch);
    if (batch.status !== 'completed') {
      for await (const current of session.client.batches.watch(batch.id)) {
        last = current;
        show(current);
      }
    }
    ended = ended ? addCounts(ended, last.counts) : last.counts;
  }
  const counts = ended ?? ({ queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 } as Counts);
  view.finish(asJob(label, createdAt, total, counts, true));
  return counts;
}
