/**
 * Every change of a job's state, each one conditional on the state it comes from, so that two
 * actors racing (a cancel and a worker, two workers after a lost lock, reconcile and a worker)
 * cannot both win. A final state is written in one transaction with what goes with it: the
 * result row (its primary key makes a second one impossible), the webhook deliveries of the
 * event, and the compute usage.
 */
import type { Knex } from 'knex';
import { recordUsage, USAGE_METRICS } from '../usage.ts';
import { jobEventType, recordJobEvent } from '../webhooks/job-events.ts';
import { jobBody } from './job-body.ts';
import type { FinalStatus, JobError, JobRow, JobStatus } from './types.ts';

/** Milliseconds since a timestamp column, as an integer, on the database clock. */
const msSince = (column: string) => `greatest(0, round(extract(epoch from (now() - ${column})) * 1000))::int`;

export interface FinishJobInput {
  tenantId: string;
  jobId: string;
  status: FinalStatus;
  /** The states the job may be in for this transition to apply. */
  from: readonly JobStatus[];
  error?: JobError | null;
  /** The kernel's result (completed only). */
  result?: Record<string, unknown>;
  /** Only when the attempt that finishes is still the job's latest one. */
  attempt?: number;
  /** Completing also requires that nobody asked to cancel the job meanwhile. */
  requireNoCancel?: boolean;
  /** Compute to record as usage (`compute_cells`). */
  computeCells?: number;
  /** Only if the row was not touched (no worker heartbeat) after this time. */
  unchangedSince?: Date;
}

export interface FinishedJob {
  row: JobRow;
  /** Webhook deliveries created for the event, to dispatch after commit. */
  deliveryIds: string[];
}

/**
 * Moves a job to a final state inside `trx`. Returns undefined (and changes nothing) when the
 * job is not in one of `from` — someone else already decided its fate.
 */
export async function finishJob(trx: Knex.Transaction, input: FinishJobInput): Promise<FinishedJob | undefined> {
  const query = trx('jobs')
    .where({ id: input.jobId, tenant_id: input.tenantId })
    .whereIn('status', [...input.from]);
  if (input.attempt !== undefined) query.andWhere('attempts', input.attempt);
  if (input.requireNoCancel) query.whereNull('cancel_requested_at');
  // Compared at millisecond precision: the time came through JavaScript.
  if (input.unchangedSince) query.andWhereRaw(`date_trunc('milliseconds', updated_at) <= ?`, [input.unchangedSince]);
  const update = query
    .update({
      status: input.status,
      error: input.error ? trx.raw('?::jsonb', [JSON.stringify(input.error)]) : null,
      finished_at: trx.fn.now(),
      updated_at: trx.fn.now(),
      progress: input.status === 'completed' ? 1 : trx.raw('progress'),
      // Only an attempt that was running has a run time.
      run_ms: trx.raw(`case when status = 'running' and started_at is not null then ${msSince('started_at')} else run_ms end`),
      cancel_requested_at: input.status === 'cancelled' ? trx.raw('coalesce(cancel_requested_at, now())') : trx.raw('cancel_requested_at'),
    })
    .returning('*');
  const result = input.status === 'completed' ? (input.result ?? {}) : null;
  // The state and the result in one statement (one round trip); the result row's primary key
  // keeps a second result out.
  const [row] = result
    ? (
        await trx.raw<{ rows: JobRow[] }>(
          `with updated as (?), saved as (
             insert into job_results (job_id, tenant_id, result)
             select id, tenant_id, ?::jsonb from updated
             on conflict (job_id) do nothing)
           select * from updated`,
          [update, JSON.stringify(result)],
        )
      ).rows
    : ((await update) as JobRow[]);
  if (!row) return undefined;
  const deliveryIds = await recordJobEvent(trx, row.tenant_id, jobEventType(input.status), { ...jobBody(row, result) });
  if (input.computeCells && input.computeCells > 0) {
    await recordUsage(trx, row.tenant_id, USAGE_METRICS.computeCells, input.computeCells);
  }
  return { row, deliveryIds };
}

export interface StartAttemptInput {
  tenantId: string;
  jobId: string;
  workerId: string;
}

/**
 * Marks a job running for a new attempt. A job already `running` is accepted too: its previous
 * worker died (or lost its lock) and BullMQ handed the job to this one. Returns undefined when
 * the job is final (or gone): the caller drops it without running it.
 */
export async function startAttempt(db: Knex, input: StartAttemptInput): Promise<JobRow | undefined> {
  const [row] = (await db('jobs')
    .where({ id: input.jobId, tenant_id: input.tenantId })
    .whereIn('status', ['queued', 'running'])
    .update({
      status: 'running',
      attempts: db.raw('attempts + 1'),
      worker_id: input.workerId,
      started_at: db.fn.now(),
      updated_at: db.fn.now(),
      progress: 0,
      queue_wait_ms: db.raw(msSince('created_at')),
    })
    .returning('*')) as JobRow[];
  return row;
}

/**
 * Puts a running job back to `queued` for a later attempt (`running → queued`), recording why
 * the attempt failed. `refund` takes the attempt back (a worker shutting down hands its jobs
 * back through no fault of theirs). Only the worker holding the attempt can do this.
 */
export async function requeueAttempt(
  db: Knex,
  input: { tenantId: string; jobId: string; workerId: string; attempt: number; error?: JobError | null; refund?: boolean },
): Promise<boolean> {
  const updated = await db('jobs')
    .where({ id: input.jobId, tenant_id: input.tenantId, status: 'running', worker_id: input.workerId, attempts: input.attempt })
    .update({
      status: 'queued',
      worker_id: null,
      progress: 0,
      updated_at: db.fn.now(),
      ...(input.error ? { error: db.raw('?::jsonb', [JSON.stringify(input.error)]) } : {}),
      ...(input.refund ? { attempts: db.raw('greatest(attempts - 1, 0)') } : {}),
    });
  return updated > 0;
}

/** Records progress of a running attempt (never lowers it). */
export async function recordProgress(db: Knex, jobId: string, attempt: number, progress: number): Promise<void> {
  await db('jobs')
    .where({ id: jobId, status: 'running', attempts: attempt })
    .update({ progress: db.raw('greatest(progress, ?)', [progress]), updated_at: db.fn.now() });
}

/**
 * Touches the running jobs a worker holds: `updated_at` is the worker's heartbeat, which
 * reconcile reads to tell a live worker from a dead one without trusting Redis.
 */
export async function touchRunningJobs(db: Knex, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await db('jobs')
    .whereIn('id', [...jobIds])
    .andWhere('status', 'running')
    .update({ updated_at: db.fn.now() });
}
