/**
 * A write of one tenant's job submissions whose jobs are all checked already (inline lattices) as
 * ONE round trip to PostgreSQL: the role and tenant switch, then one statement that decides the
 * monthly quotas (the `submit_room` function of migration 0024, with the locks and reads of
 * submit-quota.ts), inserts the jobs that fit, and counts them and their compute units in usage.
 * Row-level security decides every row it reads and writes: it runs as the tenant role
 * (`statementAsTenant`). A write of five round trips held its connection and row locks while the
 * API's event loop waited to be scheduled between them; see docs/performance.md › Load.
 */
import { type Db, sql, statementAsTenant } from '../../shared/db.ts';
import { INSERTED_COLUMNS, type NewJob } from '../../shared/jobs/repository.ts';
import type { JobRow } from '../../shared/jobs/types.ts';
import type { Plan } from '../../shared/plans.ts';
import { USAGE_METRICS, usageDay } from '../../shared/usage.ts';
import { computeQuotaExceeded, QUOTA_EXACT_MARGIN, quotaExceeded } from './submit-quota.ts';

/** A job of the write refused by a monthly quota, and the usage it saw (as `jobsRoom` / `computeRoom` report it). */
interface Refusal {
  ord: number;
  used: number;
  refused_by: 'jobs_per_month' | 'compute_units_per_month';
}

type Row = Omit<JobRow, 'lattice' | 'params'> & { refused: Refusal[] };

/** Per job, in order: its row, undefined when its idempotency key was taken, or the quota's refusal. */
export type OneTripOutcome = { ok: true; value: JobRow | undefined } | { ok: false; error: unknown };

/** The jobs as one JSON document, column by column as `insertJobs` writes them. */
function jobsDocument(jobs: readonly NewJob[]): string {
  return JSON.stringify(
    jobs.map((job, i) => ({
      ord: i + 1,
      id: job.id,
      tenant_id: job.tenantId,
      lattice_id: job.latticeId,
      lattice_version_id: job.latticeVersionId,
      type: job.type,
      lattice: job.lattice,
      params: job.params,
      cells: job.cells,
      memory_bytes: job.memoryBytes,
      max_attempts: job.maxAttempts,
      idempotency_key: job.idempotencyKey,
      request_hash: job.requestHash,
      labels: job.labels && Object.keys(job.labels).length > 0 ? job.labels : null,
      artefacts: job.artefacts && job.artefacts.length > 0 ? job.artefacts : null,
      units: job.computeUnits,
    })),
  );
}

/**
 * Writes checked jobs of one tenant and plan; one outcome per job, in order. Usage counters are
 * upserted `jobs.<type>` first, then `compute_units`, in one statement: the order `insertJobs`
 * then `recordUsage` take them in elsewhere, so no two writes of a tenant lock them crosswise.
 */
export async function writeJobsInOneTrip(db: Db, tenantId: string, plan: Plan, plans: readonly Plan[], jobs: readonly NewJob[]): Promise<OneTripOutcome[]> {
  if (jobs.length === 0) return [];
  const day = usageDay();
  const units = `{${jobs.map((job) => Math.trunc(job.computeUnits)).join(',')}}`;
  const statement = sql`
    with room as materialized (
      select * from submit_room(${tenantId}::uuid, ${day}::date, ${plan.jobs_per_month}, ${QUOTA_EXACT_MARGIN}, ${plan.compute_units_per_month}, ${units}::bigint[])),
    v as materialized (
      select * from jsonb_to_recordset(${jobsDocument(jobs)}::jsonb) as v(
        ord integer, id uuid, tenant_id uuid, lattice_id uuid, lattice_version_id uuid, type text, lattice jsonb, params jsonb,
        cells bigint, memory_bytes bigint, max_attempts integer, idempotency_key text, request_hash text, labels jsonb, artefacts text[], units bigint)),
    job as (
      insert into jobs (id, tenant_id, lattice_id, lattice_version_id, type, status, lattice, params, cells, memory_bytes, max_attempts,
                        idempotency_key, request_hash, labels, artefacts)
      select v.id, v.tenant_id, v.lattice_id, v.lattice_version_id, v.type, 'queued', v.lattice, v.params, v.cells, v.memory_bytes, v.max_attempts,
             v.idempotency_key, v.request_hash, v.labels, v.artefacts
      from v join room on room.ord = v.ord where room.fits order by v.ord
      on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing
      returning `;
  // The column list is the repository's own constant, not a value: it joins as text.
  const counted = sql`),
    counted as (
      insert into usage_counters (tenant_id, day, metric, value)
      select tenant_id, day, metric, value from (
        select job.tenant_id, ${day}::date as day, ${USAGE_METRICS.jobsPrefix} || job.type as metric, count(*) as value, 0 as turn from job group by job.tenant_id, job.type
        union all
        select job.tenant_id, ${day}::date, ${USAGE_METRICS.computeUnits}, sum(v.units)::bigint, 1 from job join v on v.id = job.id group by job.tenant_id having sum(v.units) > 0
      ) counts order by turn, metric
      on conflict (tenant_id, day, metric) do update set value = usage_counters.value + excluded.value, updated_at = now())
    select (select coalesce(jsonb_agg(jsonb_build_object('ord', r.ord, 'used', r.used, 'refused_by', r.refused_by) order by r.ord), '[]'::jsonb)
            from room r where not r.fits) as refused, job.*
    from (select) as one left join job on true`;
  const rows = await statementAsTenant<Row>(db, tenantId, { text: `${statement.text}${INSERTED_COLUMNS}${counted.text}` });
  const refusals = new Map((rows[0]?.refused ?? []).map((r) => [r.ord, r] as const));
  const byId = new Map(rows.filter((row) => row.id !== null).map((row) => [row.id, row] as const));
  return jobs.map((job, i) => {
    const refusal = refusals.get(i + 1);
    if (refusal?.refused_by === 'jobs_per_month') return { ok: false, error: quotaExceeded(plan, refusal.used) };
    if (refusal) return { ok: false, error: computeQuotaExceeded(plan, plans, refusal.used, job.computeUnits) };
    const row = byId.get(job.id);
    if (!row) return { ok: true, value: undefined };
    const { refused: _refused, ...columns } = row;
    return { ok: true, value: { ...columns, lattice: job.lattice, params: job.params } as JobRow };
  });
}
