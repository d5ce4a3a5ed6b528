/**
 * Usage counters per tenant per UTC day (`usage_counters`: `api_calls`, `jobs.<type>`,
 * `compute_cells`, `compute_units`), the basis of monthly quotas and of `GET /api/usage`.
 * See docs/plans-and-limits.md › Rate limits and quotas.
 */
import { randomInt } from 'node:crypto';
import type { Knex } from 'knex';

/** Names of the usage metrics (see the module comment for what each counts). */
export const USAGE_METRICS = {
  apiCalls: 'api_calls',
  computeCells: 'compute_cells',
  computeUnits: 'compute_units',
  /** Prefix of the per-type job counters: `jobs.<type>`. */
  jobsPrefix: 'jobs.',
} as const;

/** The counter name for jobs of one type, e.g. `jobs.diffusion`. */
export function jobsMetric(type: string): string {
  return `${USAGE_METRICS.jobsPrefix}${type}`;
}

/**
 * Rows one counter of one day may be spread over (`usage_counters.lane`, migration 0033). Two
 * writes of a tenant that add to different lanes do not wait for each other's commit on one row
 * lock; a counter's value is the sum of its lanes, and every reader sums them. Quotas stay exact
 * without any lane of its own: a write near a limit takes the tenant's advisory lock and then
 * reads the sum of every lane (api/jobs/submit-quota.ts).
 */
export const USAGE_LANES = 16;

/** This process's first lane: processes start at random lanes, so their writes seldom share one. */
const FIRST_LANE = randomInt(USAGE_LANES);

/**
 * The lane of a process's write slot `slot` (0, 1, …): a process's concurrent writes of one tenant
 * hold different slots, hence different lanes (up to USAGE_LANES of them).
 */
export function usageLane(slot: number): number {
  return (FIRST_LANE + slot) % USAGE_LANES;
}

/** A lane for a write that holds no slot (e.g. a submission with an Idempotency-Key). */
export function anyUsageLane(): number {
  return randomInt(USAGE_LANES);
}

/** A UTC calendar day as `YYYY-MM-DD`. */
export function usageDay(at: Date = new Date()): string {
  return at.toISOString().slice(0, 10);
}

/** The first day (`YYYY-MM-01`) of the UTC month holding `day` (a `YYYY-MM-DD`). */
export function monthStart(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

/** The first instant of the UTC month after `at`, when monthly quotas start again. */
export function nextMonthStart(at: Date = new Date()): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
}

/** Adds to one lane of a counter (bindings: tenant, day, metric, lane, amount); returns the lane's new value. */
const ADD_TO_COUNTER = `insert into usage_counters (tenant_id, day, metric, lane, value) values (?, ?, ?, ?, ?)
  on conflict (tenant_id, day, metric, lane)
  do update set value = usage_counters.value + excluded.value, updated_at = now()
  returning value`;

/**
 * Adds `amount` to a tenant's counter for `day` (today, UTC, by default), in `lane` (see
 * USAGE_LANES), and returns the lane's new value (the day's, for a counter only ever written in
 * one lane). One atomic upsert: safe from any number of processes. Pass the transaction of the
 * work being counted when there is one (e.g. the job insert), so a rolled-back job is not counted.
 */
export async function recordUsage(
  db: Knex | Knex.Transaction,
  tenantId: string,
  metric: string,
  amount: number,
  day: string = usageDay(),
  lane = 0,
): Promise<number> {
  const result = await db.raw<{ rows: Array<{ value: number }> }>(ADD_TO_COUNTER, [tenantId, day, metric, lane, amount]);
  return Number(result.rows[0]?.value ?? 0);
}

/** One counter on one day. */
export interface UsagePoint {
  day: string;
  metric: string;
  value: number;
}

/** Every counter of a tenant between two days (inclusive), its lanes summed, ordered by day then metric. */
export async function usageSeries(db: Knex | Knex.Transaction, tenantId: string, from: string, to: string): Promise<UsagePoint[]> {
  const rows = await db('usage_counters')
    .where('tenant_id', tenantId)
    .andWhere('day', '>=', from)
    .andWhere('day', '<=', to)
    .groupBy('day', 'metric')
    .orderBy([{ column: 'day' }, { column: 'metric' }])
    .select<Array<{ day: string; metric: string; value: number | string }>>(db.raw(`to_char(day, 'YYYY-MM-DD') as day`), 'metric', db.raw('sum(value) as value'));
  return rows.map((r) => ({ day: r.day, metric: r.metric, value: Number(r.value) }));
}

/**
 * A tenant's totals per metric for the UTC month holding `day`, up to and including `day`
 * (`before: true` stops the day before, for "earlier this month").
 */
export async function monthlyTotals(
  db: Knex | Knex.Transaction,
  tenantId: string,
  day: string = usageDay(),
  options: { before?: boolean } = {},
): Promise<Record<string, number>> {
  const rows = await db('usage_counters')
    .where('tenant_id', tenantId)
    .andWhere('day', '>=', monthStart(day))
    .andWhere('day', options.before ? '<' : '<=', day)
    .groupBy('metric')
    .select<Array<{ metric: string; total: string | number }>>('metric', db.raw('sum(value) as total'));
  return Object.fromEntries(rows.map((r) => [r.metric, Number(r.total)]));
}

/** The number of jobs of every type in a set of totals. */
export function totalJobs(totals: Record<string, number>): number {
  return Object.entries(totals)
    .filter(([metric]) => metric.startsWith(USAGE_METRICS.jobsPrefix))
    .reduce((sum, [, value]) => sum + value, 0);
}
