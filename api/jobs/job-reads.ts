/**
 * A tenant's read of one job with its result, in ONE PostgreSQL round trip: the job row left-joined
 * to its result, a prepared statement run through `executeAsTenant` (role and tenant set by the
 * same query string, so row-level security applies). The read behind a poll that the job-state
 * cache cannot answer, which would otherwise cost BEGIN, set_config, two selects and COMMIT.
 * Planning it each time cost PostgreSQL about as much as running it (docs/performance.md › Mixed
 * load): prepared, it is planned once per connection. A primary-key lookup has one good plan
 * whatever the ids, so the generic plan `executeAsTenant` asks for loses nothing.
 *
 * Only the columns of the public job body are read: the lattice spec and parameters, which can be
 * large, stay in the database.
 */
import { type Db, executeAsTenant, type PreparedStatement, sql } from '../../shared/db.ts';
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

/**
 * The job and its result by tenant and id. The tenant is named in the WHERE clause as well;
 * row-level security would hide another tenant's job without it.
 */
export const READ_JOB_WITH_RESULT: PreparedStatement = {
  name: 'catalytic_read_job_v1',
  params: ['uuid', 'uuid'],
  text: `select j.id, j.type, j.status, j.progress, j.attempts, j.created_at, j.started_at, j.finished_at,
               j.queue_wait_ms, j.run_ms, j.error, j.state_version, j.batch_id, j.labels, r.result
          from jobs j
          left join job_results r on r.tenant_id = j.tenant_id and r.job_id = j.id and j.status = 'completed'
         where j.tenant_id = $1 and j.id = $2`,
};

/** {@link readJobWithResult} with the row's state version (the job-state cache's key). */
export async function readVersionedJob(db: Db, tenantId: string, jobId: string): Promise<VersionedJob | undefined> {
  const rows = await executeAsTenant<JobWithResultRow>(db, tenantId, READ_JOB_WITH_RESULT, [sql`${tenantId}`, sql`${jobId}`]);
  const row = rows[0];
  return row ? { body: jobBody(row, row.result), version: row.state_version } : undefined;
}
