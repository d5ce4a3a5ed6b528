/**
 * Finds tenants past 80% or 100% of a quota — API calls, jobs and compute units this month, bytes
 * of storage kept — and records one notification per tenant, quota, month and threshold
 * (`quota:<name>:<YYYY-MM>:<percent>`). The key makes a run idempotent: any number of runs, in any
 * number of processes, record each threshold once a month. A tenant found past both thresholds
 * at once is mailed about 100% only (the 80% row is recorded as already dispatched).
 */
import type { Knex } from 'knex';
import type { Db } from '../shared/db.ts';
import { recordNotification } from '../shared/notifications/record.ts';
import { monthStart, usageDay, USAGE_METRICS } from '../shared/usage.ts';

/** The percentages of a quota that notify. */
export const QUOTA_THRESHOLDS = [80, 100] as const;

/** Each quota: the plan column it is measured against, how the mail names it, and what 100% means. */
const QUOTAS = {
  api_calls: {
    limit: 'api_calls_per_month',
    label: 'API calls this month',
    consequence: 'At 100% further API requests are refused until the month ends (UTC) or the plan changes.',
  },
  jobs: {
    limit: 'jobs_per_month',
    label: 'jobs this month',
    consequence: 'At 100% new jobs are refused until the month ends (UTC) or the plan changes.',
  },
  compute_units: {
    limit: 'compute_units_per_month',
    label: 'compute units this month',
    consequence: 'At 100% jobs that do not fit in what is left are refused until the month ends (UTC) or the plan changes.',
  },
  storage_bytes: {
    limit: 'max_storage_bytes',
    label: 'bytes of storage',
    consequence: 'At 100% uploads and new job artefacts are refused until stored data is deleted or the plan changes.',
  },
} as const;
type QuotaName = keyof typeof QUOTAS;

type UsageRow = { tenant_id: string } & Record<QuotaName | `${QuotaName}_limit`, string | number | null>;

/** One run over every tenant with usage this month or stored bytes; returns what it recorded. */
export async function watchQuotas(db: Db, now: Date = new Date()): Promise<{ tenants: number; recorded: number }> {
  const month = monthStart(usageDay(now));
  const rows = await usageAgainstPlans(db, month);
  let recorded = 0;
  for (const row of rows) {
    for (const name of Object.keys(QUOTAS) as QuotaName[]) {
      const used = Number(row[name] ?? 0);
      const limit = Number(row[`${name}_limit`] ?? -1);
      const reached = reachedThreshold(used, limit);
      if (reached === undefined) continue;
      recorded += await recordThreshold(db, row.tenant_id, name, month.slice(0, 7), reached, used, limit);
    }
  }
  return { tenants: rows.length, recorded };
}

/** The highest threshold `used` has reached of `limit`; undefined below the first or when unlimited. */
export function reachedThreshold(used: number, limit: number): number | undefined {
  if (limit <= 0) return undefined;
  return [...QUOTA_THRESHOLDS].reverse().find((percent) => used * 100 >= percent * limit);
}

async function recordThreshold(db: Db, tenantId: string, name: QuotaName, period: string, reached: number, used: number, limit: number): Promise<number> {
  const quota = QUOTAS[name];
  return db.transaction(async (trx) => {
    // Lower thresholds not yet recorded are passed: kept as dispatched, so nobody gets two mails at once.
    for (const lower of QUOTA_THRESHOLDS.filter((p) => p < reached)) {
      await trx('notifications')
        .insert({ tenant_id: tenantId, kind: 'quota_warning', key: quotaKey(name, period, lower), params: '{}', dispatched_at: trx.fn.now(), recipients: 0 })
        .onConflict(['tenant_id', 'key'])
        .ignore();
    }
    const inserted = await recordNotification(trx, {
      tenantId,
      kind: 'quota_warning',
      key: quotaKey(name, period, reached),
      params: {
        quota: quota.label,
        percent: String(reached),
        used: used.toLocaleString('en-US'),
        limit: limit.toLocaleString('en-US'),
        consequence: quota.consequence,
      },
    });
    return inserted ? 1 : 0;
  });
}

function quotaKey(name: QuotaName, period: string, percent: number): string {
  return `quota:${name}:${period}:${percent}`;
}

/** This month's usage and stored bytes of every tenant that has some, with its plan's limits. */
async function usageAgainstPlans(db: Knex, month: string): Promise<UsageRow[]> {
  const { rows } = await db.raw<{ rows: UsageRow[] }>(
    `with month as (
       select tenant_id,
              sum(value) filter (where metric = ?) as api_calls,
              sum(value) filter (where metric like ?) as jobs,
              sum(value) filter (where metric = ?) as compute_units
         from usage_counters where day >= ? group by tenant_id),
     stored as (select tenant_id, sum(size) as storage_bytes from blobs group by tenant_id)
     select t.id as tenant_id, m.api_calls, m.jobs, m.compute_units, s.storage_bytes,
            p.api_calls_per_month as api_calls_limit, p.jobs_per_month as jobs_limit,
            p.compute_units_per_month as compute_units_limit, p.max_storage_bytes as storage_bytes_limit
       from tenants t
       join plans p on p.code = t.plan_code
       left join month m on m.tenant_id = t.id
       left join stored s on s.tenant_id = t.id
      where m.tenant_id is not null or s.tenant_id is not null`,
    [USAGE_METRICS.apiCalls, `${USAGE_METRICS.jobsPrefix}%`, USAGE_METRICS.computeUnits, month],
  );
  return rows;
}
