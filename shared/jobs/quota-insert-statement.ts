/**
 * Job submissions of one tenant on a plan with monthly quotas, written in ONE round trip: two
 * prepared statements in one query string behind the role and tenant switch (`executeStepsAsTenant`),
 * so one implicit transaction. The first takes the quota locks the transaction path takes
 * (api/jobs/submit-quota.ts): the tenant's jobs-quota lock only within `exactMargin`
 * (quotaExactMargin) jobs of the limit, its compute-quota lock whenever the plan limits compute
 * units, in that order. The
 * second reads the month's usage with a snapshot taken after those locks, decides each job in
 * arrival order (jobs room first, then compute units, a job that does not fit refused and a later
 * smaller one still fitting), inserts the accepted ones and counts them as insert-statement.ts
 * does. Each job comes back with its decision and the usage its refusal reports.
 *
 * It replaces BEGIN, the role switch, the usage read, the lock, the read again, the insert, the
 * compute-unit count and COMMIT (eight round trips) for inline submissions. See
 * docs/performance.md › Mixed load.
 */
import { type Db, executeStepsAsTenant, type PreparedStatement, sql } from '../db.ts';
import { monthStart, USAGE_METRICS, usageDay } from '../usage.ts';
import { countInserted, jobColumnArrays } from './insert-statement.ts';
import { INSERTED_COLUMNS, type NewJob } from './repository.ts';
import type { JobRow } from './types.ts';

/** Usage of the month to `day`: jobs of every type, and compute units. */
const JOBS_USED = `select coalesce(sum(value), 0) as used from usage_counters
                    where tenant_id = $1 and metric like '${USAGE_METRICS.jobsPrefix}%' and day >= $2 and day <= $3`;

/**
 * Takes the jobs-quota lock when `used + wanted + margin >= limit` (read without it), then the
 * compute-quota lock when the plan limits units. OFFSET 0 keeps the subquery whole, so its lock
 * is taken first; a lock key is the text `lockTenant` hashes.
 * Params: tenant, month start, day, wanted, jobs limit, margin, units limit, jobs key, units key.
 */
const QUOTA_LOCKS: PreparedStatement = {
  name: 'catalytic_submit_quota_locks_v1',
  params: ['uuid', 'date', 'date', 'bigint', 'bigint', 'bigint', 'bigint', 'text', 'text'],
  text: `select s.jobs_locked, case when $7 >= 0 then pg_advisory_xact_lock(hashtextextended($9, 0)) end as units_locked
           from (select case when $5 >= 0 and u.used + $4 + $6 >= $5 then pg_advisory_xact_lock(hashtextextended($8, 0)) end as jobs_locked
                   from (${JOBS_USED}) u
                 offset 0) s`,
};

/**
 * Params: tenant, day, the fifteen arrays of insert-statement.ts, month start, jobs limit, units
 * limit (a limit below 0: none), the counters' lane to count in. The usage read sums every lane:
 * the write's own lane is only where it adds, never what it checks. One row per job, in order: whether it was within the jobs room
 * and fitted the units, the units used before it, the jobs used before the write, and its
 * inserted row (null columns when it was refused or its idempotency key was taken).
 */
const INSERT_WITHIN_QUOTAS: PreparedStatement = {
  name: 'catalytic_insert_jobs_within_quotas_v2',
  params: [
    'uuid', 'date', 'uuid[]', 'uuid[]', 'uuid[]', 'text[]', 'jsonb[]', 'jsonb[]', 'bigint[]', 'bigint[]', 'integer[]', 'text[]', 'text[]', 'jsonb[]', 'jsonb[]', 'text[]', 'bigint[]',
    'date', 'bigint', 'bigint', 'smallint',
  ],
  text: `with recursive input as (
      select * from unnest($3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) with ordinality
        as i(id, lattice_id, lattice_version_id, type, lattice, params, cells, memory_bytes, max_attempts, idempotency_key, request_hash, labels, artefacts, queue_entry, units, ord)),
    totals as (
      select coalesce(sum(value) filter (where metric like '${USAGE_METRICS.jobsPrefix}%'), 0) as jobs_used,
             coalesce(sum(value) filter (where metric = '${USAGE_METRICS.computeUnits}'), 0) as units_used
        from usage_counters where tenant_id = $1 and day >= $18 and day <= $2),
    ranked as (
      select i.*, ($19 < 0 or i.ord <= $19 - t.jobs_used) as within_jobs from input i cross join totals t),
    decided (ord, used, fits, used_before) as (
      select 0::bigint, units_used, true, 0::numeric from totals
      union all
      select r.ord,
             d.used + case when r.within_jobs and ($20 < 0 or d.used + r.units <= $20) then r.units else 0 end,
             r.within_jobs and ($20 < 0 or d.used + r.units <= $20),
             d.used
        from decided d join ranked r on r.ord = d.ord + 1),
    job as (
      insert into jobs (id, tenant_id, lattice_id, lattice_version_id, type, status, lattice, params, cells, memory_bytes, max_attempts, idempotency_key, request_hash, labels, artefacts, queue_entry)
      select r.id, $1, r.lattice_id, r.lattice_version_id, r.type, 'queued', r.lattice, r.params, r.cells, r.memory_bytes, r.max_attempts, r.idempotency_key, r.request_hash, r.labels,
        (select array_agg(name) from jsonb_array_elements_text(r.artefacts) as name), r.queue_entry
      from ranked r join decided d on d.ord = r.ord and d.fits
      order by r.ord
      on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing
      returning ${INSERTED_COLUMNS}),
    ${countInserted('$21')}
    select r.ord as quota_ord, r.within_jobs as quota_within_jobs, d.fits as quota_fits, d.used_before::float8 as quota_units_used,
           (select jobs_used from totals)::float8 as quota_jobs_used, j.*
      from ranked r join decided d on d.ord = r.ord left join job j on j.id = r.id
     order by r.ord`,
};

/** What the write decided for one job. */
export type QuotaWriteOutcome =
  | { kind: 'inserted'; row: JobRow }
  /** Its idempotency key was taken meanwhile: nothing written, counted or charged. */
  | { kind: 'key_taken' }
  /** Past the monthly jobs; `usedAfter` is the month's jobs once the accepted ones are counted. */
  | { kind: 'jobs_quota'; usedAfter: number }
  /** Its units do not fit in the month's; `used` is what the month had used before it. */
  | { kind: 'compute_quota'; used: number };

/** The monthly limits a write obeys (below 0: none). */
export interface MonthlyLimits {
  jobsPerMonth: number;
  computeUnitsPerMonth: number;
  /** Within this many jobs of the jobs limit, the write takes the jobs-quota lock. */
  exactMargin: number;
}

type DecidedRow = Partial<Omit<JobRow, 'lattice' | 'params'>> & {
  quota_ord: string;
  quota_within_jobs: boolean;
  quota_fits: boolean;
  quota_units_used: number;
  quota_jobs_used: number;
};

/**
 * Inserts jobs of one tenant within its monthly quotas and counts them in the counters' `lane`,
 * in one round trip; one outcome per job, in order. Jobs on stored lattices are not for this write
 * (their lattice must be locked and read first).
 */
export async function writeJobsWithinQuotas(
  db: Db,
  tenantId: string,
  limits: MonthlyLimits,
  jobs: readonly NewJob[],
  options: { day?: string; lane?: number } = {},
): Promise<QuotaWriteOutcome[]> {
  const { day = usageDay(), lane = 0 } = options;
  if (jobs.length === 0) return [];
  if (jobs.some((job) => job.tenantId !== tenantId)) throw new Error('writeJobsWithinQuotas writes the jobs of one tenant');
  const month = monthStart(day);
  const rows = await executeStepsAsTenant<DecidedRow>(db, tenantId, [
    {
      statement: QUOTA_LOCKS,
      args: [
        sql`${tenantId}`,
        sql`${month}`,
        sql`${day}`,
        sql`${jobs.length}`,
        sql`${limits.jobsPerMonth}`,
        sql`${limits.exactMargin}`,
        sql`${limits.computeUnitsPerMonth}`,
        sql`${`catalytic:jobs-quota:${tenantId}`}`,
        sql`${`catalytic:compute-quota:${tenantId}`}`,
      ],
    },
    {
      statement: INSERT_WITHIN_QUOTAS,
      args: [
        sql`${tenantId}`,
        sql`${day}`,
        ...jobColumnArrays(jobs),
        sql`${month}`,
        sql`${limits.jobsPerMonth}`,
        sql`${limits.computeUnitsPerMonth}`,
        sql`${lane}`,
      ],
    },
  ]);
  if (rows.length !== jobs.length) throw new Error(`a quota write decided ${rows.length} of ${jobs.length} jobs`);
  const room = rows.filter((row) => row.quota_within_jobs).length;
  return jobs.map((job, index) => {
    const { quota_ord: _ord, quota_within_jobs: within, quota_fits: fits, quota_units_used: unitsUsed, quota_jobs_used: jobsUsed, ...row } = rows[index] as DecidedRow;
    if (!within) return { kind: 'jobs_quota', usedAfter: jobsUsed + room };
    if (!fits) return { kind: 'compute_quota', used: unitsUsed };
    if (row.id !== job.id) return { kind: 'key_taken' };
    return { kind: 'inserted', row: { ...(row as Omit<JobRow, 'lattice' | 'params'>), lattice: job.lattice, params: job.params } };
  });
}
