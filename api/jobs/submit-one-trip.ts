/**
 * A write of one tenant's checked job submissions as ONE round trip to PostgreSQL: the role and
 * tenant switch, then one statement that locks the stored lattices the jobs run on (checking their
 * versions still stand), decides the monthly quotas (the `submit_room` function of migration 0024, with the locks and reads of
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

type Row = Omit<JobRow, 'lattice' | 'params'> & { refused: Refusal[]; stale: number[] };

/**
 * Per job, in order: its row, undefined when its idempotency key was taken, the quota's refusal,
 * or `stale` when its stored lattice was deleted or given a new version since it was checked
 * (nothing of it was written: check it again).
 */
export type OneTripOutcome = { ok: true; value: JobRow | undefined } | { ok: false; error: unknown } | { stale: true };

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
  const statement = sql`
    with v as materialized (
      select * from jsonb_to_recordset(${jobsDocument(jobs)}::jsonb) as v(
        ord integer, id uuid, tenant_id uuid, lattice_id uuid, lattice_version_id uuid, type text, lattice jsonb, params jsonb,
        cells bigint, memory_bytes bigint, max_attempts integer, idempotency_key text, request_hash text, labels jsonb, artefacts text[], units bigint)),
    -- A stored lattice is locked against deletion until the write commits, and must still be at the version the job was checked on.
    live as materialized (
      select v.*, (row_number() over (order by v.ord))::integer as turn from v
      where v.lattice_id is null
         or exists (select 1 from lattices l where l.tenant_id = v.tenant_id and l.id = v.lattice_id and l.version_id = v.lattice_version_id for key share)),
    room as materialized (
      select * from submit_room(${tenantId}::uuid, ${day}::date, ${plan.jobs_per_month}, ${QUOTA_EXACT_MARGIN}, ${plan.compute_units_per_month},
                                coalesce((select array_agg(live.units order by live.turn) from live), '{}'::bigint[]))),
    job as (
      insert into jobs (id, tenant_id, lattice_id, lattice_version_id, type, status, lattice, params, cells, memory_bytes, max_attempts,
                        idempotency_key, request_hash, labels, artefacts)
      select live.id, live.tenant_id, live.lattice_id, live.lattice_version_id, live.type, 'queued', live.lattice, live.params, live.cells,
             live.memory_bytes, live.max_attempts, live.idempotency_key, live.request_hash, live.labels, live.artefacts
      from live join room on room.ord = live.turn where room.fits order by live.ord
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
    select (select coalesce(jsonb_agg(jsonb_build_object('ord', live.ord, 'used', r.used, 'refused_by', r.refused_by) order by live.ord), '[]'::jsonb)
            from room r join live on live.turn = r.ord where not r.fits) as refused,
           (select coalesce(jsonb_agg(v.ord), '[]'::jsonb) from v where not exists (select 1 from live where live.ord = v.ord)) as stale,
           job.*
    from (select) as one left join job on true`;
  const rows = await statementAsTenant<Row>(db, tenantId, { text: `${statement.text}${INSERTED_COLUMNS}${counted.text}` });
  const refusals = new Map((rows[0]?.refused ?? []).map((r) => [r.ord, r] as const));
  const stale = new Set(rows[0]?.stale ?? []);
  const byId = new Map(rows.filter((row) => row.id !== null).map((row) => [row.id, row] as const));
  return jobs.map((job, i) => {
    if (stale.has(i + 1)) return { stale: true };
    const refusal = refusals.get(i + 1);
    if (refusal?.refused_by === 'jobs_per_month') return { ok: false, error: quotaExceeded(plan, refusal.used) };
    if (refusal) return { ok: false, error: computeQuotaExceeded(plan, plans, refusal.used, job.computeUnits) };
    const row = byId.get(job.id);
    if (!row) return { ok: true, value: undefined };
    const { refused: _refused, ...columns } = row;
    return { ok: true, value: { ...columns, lattice: job.lattice, params: job.params } as JobRow };
  });
}
