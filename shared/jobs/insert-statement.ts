/**
 * Job submissions of one tenant written in ONE round trip: the rows inserted and counted as usage
 * (`jobs.<type>` and `compute_units`) by one prepared statement, run as the tenant with row-level
 * security in force (`executeAsTenant`). It does what `insertJobs` plus the compute-unit
 * `recordUsage` do in a `withTenant` transaction (five round trips), for writes that need no
 * other statement in their transaction: no monthly quota to check, no stored lattice to lock.
 * See docs/performance.md › Mixed load.
 */
import { type Db, executeAsTenant, type LiteralSql, type PreparedStatement, sql, sqlArray } from '../db.ts';
import { USAGE_METRICS, usageDay } from '../usage.ts';
import { INSERTED_COLUMNS, type NewJob } from './repository.ts';
import type { JobRow } from './types.ts';

/**
 * The statements' tail after `input` (with `units`) and `job` (the inserted rows): counts what was
 * inserted in one upsert, jobs first in metric order, then `compute_units` (why: INSERT_AND_COUNT),
 * in the counters' lane `lane` (a parameter, e.g. `$18`; see USAGE_LANES). $1 is the tenant, $2 the day.
 */
export const countInserted = (lane: string): string => `tally as (
      select '${USAGE_METRICS.jobsPrefix}' || type as metric, count(*) as amount, 0 as rank from job group by type
      union all
      select '${USAGE_METRICS.computeUnits}', sum(input.units), 1 from job join input using (id) having sum(input.units) > 0),
    counted as (
      insert into usage_counters (tenant_id, day, metric, lane, value)
      select $1, $2, metric, ${lane}, amount from tally order by rank, metric
      on conflict (tenant_id, day, metric, lane) do update set value = usage_counters.value + excluded.value, updated_at = now())`;

/**
 * Inserts the rows unpacked from parallel arrays, then counts what was inserted in one upsert:
 * a job whose idempotency key is taken is neither inserted nor counted nor charged. The counters
 * are upserted jobs first, in metric order, then `compute_units` — the order `insertJobs` followed
 * by `recordUsage` takes their row locks, so two writes of one tenant in one lane, whichever path
 * each takes, cannot deadlock (writes in different lanes share no counter row). $18 is the lane.
 */
const INSERT_AND_COUNT: PreparedStatement = {
  name: 'catalytic_insert_jobs_v2',
  params: ['uuid', 'date', 'uuid[]', 'uuid[]', 'uuid[]', 'text[]', 'jsonb[]', 'jsonb[]', 'bigint[]', 'bigint[]', 'integer[]', 'text[]', 'text[]', 'jsonb[]', 'jsonb[]', 'text[]', 'bigint[]', 'smallint'],
  text: `with input as (
      select * from unnest($3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
        as i(id, lattice_id, lattice_version_id, type, lattice, params, cells, memory_bytes, max_attempts, idempotency_key, request_hash, labels, artefacts, queue_entry, units)),
    job as (
      insert into jobs (id, tenant_id, lattice_id, lattice_version_id, type, status, lattice, params, cells, memory_bytes, max_attempts, idempotency_key, request_hash, labels, artefacts, queue_entry)
      select id, $1, lattice_id, lattice_version_id, type, 'queued', lattice, params, cells, memory_bytes, max_attempts, idempotency_key, request_hash, labels,
        (select array_agg(name) from jsonb_array_elements_text(artefacts) as name), queue_entry
      from input
      on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing
      returning ${INSERTED_COLUMNS}),
    ${countInserted('$18')}
    select * from job`,
};

/** A JSON value as a jsonb literal, or null. */
function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** The inserted columns of `jobs` as one array literal each, in the order the insert statements take them ($3 on). */
export function jobColumnArrays(jobs: readonly NewJob[]): LiteralSql[] {
  const column = <T extends string | number | null>(type: string, pick: (job: NewJob) => T) => sqlArray(jobs.map(pick), type);
  return [
    column('uuid', (j) => j.id),
    column('uuid', (j) => j.latticeId),
    column('uuid', (j) => j.latticeVersionId),
    column('text', (j) => j.type),
    column('jsonb', (j) => json(j.lattice)),
    column('jsonb', (j) => json(j.params)),
    column('bigint', (j) => j.cells),
    column('bigint', (j) => j.memoryBytes),
    column('integer', (j) => j.maxAttempts),
    column('text', (j) => j.idempotencyKey),
    column('text', (j) => j.requestHash),
    column('jsonb', (j) => (j.labels && Object.keys(j.labels).length > 0 ? JSON.stringify(j.labels) : null)),
    column('jsonb', (j) => (j.artefacts && j.artefacts.length > 0 ? JSON.stringify(j.artefacts) : null)),
    // The entry tiny jobs written together share (shared/jobs/coalesced-entries.ts); null: their own.
    column('text', (j) => j.queueEntry ?? null),
    column('bigint', (j) => j.computeUnits),
  ];
}

/**
 * Inserts jobs of one tenant and counts them (jobs and compute units) in the counters' `lane`, in
 * one round trip. Returns the rows aligned with `jobs`, undefined where the idempotency key was taken.
 */
export async function writeJobsAsTenant(
  db: Db,
  tenantId: string,
  jobs: readonly NewJob[],
  options: { day?: string; lane?: number } = {},
): Promise<Array<JobRow | undefined>> {
  const { day = usageDay(), lane = 0 } = options;
  if (jobs.length === 0) return [];
  if (jobs.some((job) => job.tenantId !== tenantId)) throw new Error('writeJobsAsTenant writes the jobs of one tenant');
  const rows = await executeAsTenant<Omit<JobRow, 'lattice' | 'params'>>(db, tenantId, INSERT_AND_COUNT, [sql`${tenantId}`, sql`${day}`, ...jobColumnArrays(jobs), sql`${lane}`]);
  const byId = new Map(rows.map((row) => [row.id, row] as const));
  return jobs.map((job) => {
    const row = byId.get(job.id);
    return row && { ...row, lattice: job.lattice, params: job.params };
  });
}
