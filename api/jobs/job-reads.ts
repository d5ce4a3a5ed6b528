/**
 * A tenant's read of one job with its result, in ONE PostgreSQL round trip: the job row left-joined
 * to its result, run through `readAsTenant` (role and tenant set by the same query string, so
 * row-level security applies). The hot path of clients polling `GET /api/jobs/:id`, which would
 * otherwise cost BEGIN, set_config, two selects and COMMIT.
 *
 * Only the columns of the public job body are read: the lattice spec and parameters, which can be
 * large, stay in the database.
 */
import { type Db, readAsTenant, sql } from '../../shared/db.ts';
import { type JobBody, jobBody } from '../../shared/jobs/job-body.ts';
import type { JobError, JobStatus } from '../../shared/jobs/types.ts';
import type { KernelType } from '../../shared/lattice/types.ts';

interface JobWithResultRow {
  id: string;
  type: KernelType;
  status: JobStatus;
  progress: number;
  attempts: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  queue_wait_ms: number | null;
  run_ms: number | null;
  error: JobError | null;
  batch_id: string | null;
  labels: Record<string, string> | null;
  result: Record<string, unknown> | null;
  state_version: number;
}

/** A job's public body and the `state_version` of the row it was read from. */
export interface VersionedJob {
  body: JobBody;
  version: number;
}

/**
 * The job's public body (its result included once completed), or undefined when the tenant has
 * no such job. `jobId` must be a validated uuid (the routes' `IdParams`).
 */
export async function readJobWithResult(db: Db, tenantId: string, jobId: string): Promise<JobBody | undefined> {
  return (await readVersionedJob(db, tenantId, jobId))?.body;
}

/** {@link readJobWithResult} with the row's state version (the job-state cache's key). */
export async function readVersionedJob(db: Db, tenantId: string, jobId: string): Promise<VersionedJob | undefined> {
  // The tenant is named in the WHERE clause as well; row-level security would hide another
  // tenant's job without it.
  const rows = await readAsTenant<JobWithResultRow>(
    db,
    tenantId,
    sql`select j.id, j.type, j.status, j.progress, j.attempts, j.created_at, j.started_at, j.finished_at,
               j.queue_wait_ms, j.run_ms, j.error, j.state_version, j.batch_id, j.labels, r.result
          from jobs j
          left join job_results r on r.tenant_id = j.tenant_id and r.job_id = j.id and j.status = 'completed'
         where j.tenant_id = ${tenantId} and j.id = ${jobId}`,
  );
  const row = rows[0];
  return row ? { body: jobBody(row, row.result), version: row.state_version } : undefined;
}
