/**
 * The public form of a job (docs/architecture.md › The job body), the one shape clients see in API responses, server-sent
 * events and webhook payloads.
 */
import { CellPath } from '../lattice/cell-path.ts';
import type { JobError, JobRow, JobStatus } from './types.ts';

export interface JobBody {
  id: string;
  type: string;
  status: JobStatus;
  /** In [0, 1]. */
  progress: number;
  /** Times a worker started the job (a retry or a worker lost mid-job adds one). */
  attempts: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** From submission to the start of the last attempt. */
  queue_wait_ms: number | null;
  /** The last attempt's run time. */
  run_ms: number | null;
  error: JobError | null;
  /** The batch it was submitted in, if any. */
  batch_id: string | null;
  /** Its labels (its own and its batch's). */
  labels: Record<string, string>;
  result: Record<string, unknown> | null;
}

/** The columns of `jobs` a public job body is made of. */
export const JOB_BODY_COLUMNS = [
  'id',
  'type',
  'status',
  'progress',
  'attempts',
  'created_at',
  'started_at',
  'finished_at',
  'queue_wait_ms',
  'run_ms',
  'error',
  'batch_id',
  'labels',
] as const satisfies ReadonlyArray<keyof JobRow>;

export type JobBodyFields = Pick<JobRow, (typeof JOB_BODY_COLUMNS)[number]>;

/**
 * A job in a list: its body without the result, and the result's scalar fields (length, count,
 * total_heat…) once completed. The result itself comes from `GET /api/jobs/:id/result`.
 */
export type JobSummary = Omit<JobBody, 'result'> & { result_summary: Record<string, unknown> | null };

const iso = (at: Date | string | null): string | null => (at === null ? null : new Date(at).toISOString());

/** Serialises a job row (and its result, when it has one) for clients. */
/** A row's progress as bodies and updates show it: `real` columns come back as float4 approximations; four decimals are plenty. */
export function bodyProgress(progress: JobBodyFields['progress']): number {
  return Math.round(Number(progress) * 10_000) / 10_000;
}

export function jobBody(row: JobBodyFields, result: Record<string, unknown> | null = null): JobBody {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    progress: bodyProgress(row.progress),
    attempts: row.attempts,
    created_at: iso(row.created_at) as string,
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
    queue_wait_ms: row.queue_wait_ms,
    run_ms: row.run_ms,
    error: row.error ? { code: row.error.code, message: row.error.message } : null,
    batch_id: row.batch_id ?? null,
    labels: row.labels ?? {},
    result: row.status === 'completed' ? result : null,
  };
}

/** Serialises a job row for a list, with its result's summary instead of its result. */
export function jobSummary(row: JobBodyFields, resultSummary: Record<string, unknown> | null): JobSummary {
  const { result: _result, ...body } = jobBody(row);
  return { ...body, result_summary: row.status === 'completed' ? resultSummary : null };
}

/** Where a job and its parts live in the API. */
export function jobLinks(id: string) {
  return { self: `/api/jobs/${id}`, result: `/api/jobs/${id}/result`, events: `/api/jobs/${id}/events` };
}

/**
 * A result's scalar fields (length, count, total_heat…): what lists, NDJSON streams and webhook
 * events carry instead of the result, and what the writer stores in `job_results.summary` — the
 * same fields `job_result_summary(result)` in PostgreSQL keeps (migrations 0009 and 0027).
 */
export function resultSummary(result: Record<string, unknown>): Record<string, unknown> {
  const summary: Record<string, unknown> = {};
  for (const key of Object.keys(result)) {
    const raw = result[key] as { toJSON?: (key: string) => unknown } | null | undefined;
    // A path writes itself as a list, never a scalar: its toJSON would build an array per cell.
    if (raw instanceof CellPath) continue;
    // An object that writes itself as something else (toJSON) counts as what it writes.
    const value = typeof raw?.toJSON === 'function' ? raw.toJSON(key) : raw;
    // What JSON writes as a string, number, boolean or null; undefined and functions it leaves out.
    if (value === null || typeof value === 'string' || typeof value === 'boolean') summary[key] = value;
    else if (typeof value === 'number') summary[key] = Number.isFinite(value) ? value : null;
  }
  return summary;
}

/**
 * A job as lists and webhook events show it: its summary and its links. An event never embeds
 * the result (a path may list 10^6 cells): the receiver fetches `links.result` when it wants it.
 */
export function jobListItem(row: JobBodyFields, summary: Record<string, unknown> | null) {
  return { ...jobSummary(row, summary), links: jobLinks(row.id) };
}
