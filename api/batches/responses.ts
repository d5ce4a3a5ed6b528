/** The batch as the API answers it: its counts, progress, finish times and links. */
import type { BatchRow, BatchTally } from './store.ts';

export function batchLinks(id: string) {
  return { self: `/api/batches/${id}`, results: `/api/batches/${id}/results`, events: `/api/batches/${id}/events`, jobs: `/api/jobs?batch_id=${id}` };
}

const iso = (at: Date | null): string | null => (at ? at.toISOString() : null);

/** `queued` until a job starts or ends, `completed` once every job is final, else `running`. */
export function batchStatus(batch: Pick<BatchRow, 'total' | 'unfinished'>, started: boolean): 'queued' | 'running' | 'completed' {
  if (batch.unfinished === 0) return 'completed';
  return started || batch.unfinished < batch.total ? 'running' : 'queued';
}

export function batchResponse(batch: BatchRow, tally: BatchTally) {
  const { counts } = tally;
  const finished = counts.completed + counts.failed + counts.cancelled;
  return {
    id: batch.id,
    status: batchStatus({ total: batch.total, unfinished: batch.total - finished }, counts.running > 0),
    total: batch.total,
    counts,
    progress: batch.total === 0 ? 1 : Math.round((finished / batch.total) * 10_000) / 10_000,
    labels: batch.labels,
    created_at: batch.created_at.toISOString(),
    first_finished_at: iso(tally.firstFinishedAt),
    last_finished_at: iso(tally.lastFinishedAt),
    completed_at: finished === batch.total ? iso(batch.completed_at ?? tally.lastFinishedAt) : null,
    links: batchLinks(batch.id),
  };
}

/** A batch in a list: from its row alone (no count per status; GET the batch for them). */
export function batchSummary(batch: BatchRow) {
  const finished = batch.total - batch.unfinished;
  return {
    id: batch.id,
    status: batchStatus(batch, false),
    total: batch.total,
    finished,
    progress: batch.total === 0 ? 1 : Math.round((finished / batch.total) * 10_000) / 10_000,
    labels: batch.labels,
    created_at: batch.created_at.toISOString(),
    completed_at: iso(batch.completed_at),
    links: batchLinks(batch.id),
  };
}
