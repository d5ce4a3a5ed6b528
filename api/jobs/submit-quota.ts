/**
 * The monthly quotas for a write of several submissions of one tenant: jobs (`jobs_per_month`)
 * and compute units (`max_compute_units_per_job`, `compute_units_per_month`, see
 * shared/compute-units.ts).
 *
 * Far from the limit, concurrent writes cannot overshoot it (only a bounded number of jobs are
 * ever being written at once), so the check reads the month's usage without a lock. Within
 * {@link quotaExactMargin} jobs of the limit, writes of a tenant take an advisory lock and read
 * again, so the limit holds exactly. A write of n jobs with room for k < n accepts the first k
 * (in arrival order) and refuses the others exactly as each would have been refused alone.
 */
import type { Knex } from 'knex';
import type { Config } from '../../shared/config.ts';
import { AppError } from '../../shared/errors.ts';
import { type Plan, planAllowing } from '../../shared/plans.ts';
import { monthlyTotals, nextMonthStart, totalJobs, USAGE_METRICS } from '../../shared/usage.ts';

/**
 * Within this many jobs of the monthly limit (counting the jobs being written), writes of a
 * tenant take an advisory lock so the limit holds exactly; below it they run in parallel. It is
 * the most single submissions of one tenant that can be in flight at once, so no configuration
 * can make unlocked writes overshoot: in each API process, the group commits' jobs
 * (SUBMIT_BATCH_MAX × SUBMIT_WRITES_PER_TENANT) and the submissions written alone (with an
 * Idempotency-Key, or when SUBMIT_BATCH_MAX is 1), one per pooled connection (DATABASE_POOL_MAX).
 * Batches bring up to 1,000 jobs each, any number at once, so they always lock (`exact`).
 */
export function quotaExactMargin(
  config: Pick<Config, 'SUBMIT_BATCH_MAX' | 'SUBMIT_WRITES_PER_TENANT' | 'DATABASE_POOL_MAX' | 'API_PROCESSES_MAX'>,
): number {
  return config.API_PROCESSES_MAX * (config.SUBMIT_BATCH_MAX * config.SUBMIT_WRITES_PER_TENANT + config.DATABASE_POOL_MAX);
}

/** Serialises both advisory-locked checks of one tenant (monthly jobs, lattice count). */
export async function lockTenant(trx: Knex.Transaction, purpose: string, tenantId: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`catalytic:${purpose}:${tenantId}`]);
}

/** The refusal of a job over the monthly limit, `used` being the jobs counted this month. */
export function quotaExceeded(plan: Plan, used: number): AppError {
  const retryAfterS = Math.max(1, Math.ceil((nextMonthStart().getTime() - Date.now()) / 1000));
  return new AppError('quota_exceeded', `The ${plan.name} plan allows ${plan.jobs_per_month} jobs per month`, {
    headers: { 'Retry-After': String(retryAfterS) },
    extra: { limit: 'jobs_per_month', limit_value: plan.jobs_per_month, used },
  });
}

/**
 * How many of `wanted` jobs the tenant may still submit this month, and the usage the refused
 * ones report (what each would have seen alone, after the accepted ones were counted).
 * Call inside the transaction that writes the accepted jobs. `margin` is {@link quotaExactMargin};
 * `exact` decides under the lock whatever the distance from the limit: for writes whose number in
 * flight no margin bounds (batches: up to 1,000 jobs each, any number at once).
 */
export async function jobsRoom(
  trx: Knex.Transaction,
  tenantId: string,
  plan: Plan,
  wanted: number,
  decide: { margin: number } | { exact: true },
): Promise<{ room: number; usedAfter: number }> {
  if (plan.jobs_per_month < 0 || wanted === 0) return { room: wanted, usedAfter: 0 };
  const exact = 'exact' in decide;
  if (exact) await lockTenant(trx, 'jobs-quota', tenantId);
  let used = totalJobs(await monthlyTotals(trx, tenantId));
  if (!exact && used + wanted + decide.margin >= plan.jobs_per_month) {
    await lockTenant(trx, 'jobs-quota', tenantId);
    used = totalJobs(await monthlyTotals(trx, tenantId));
  }
  const room = Math.min(wanted, Math.max(0, plan.jobs_per_month - used));
  return { room, usedAfter: used + room };
}

/** Refuses a job that costs more compute units than its plan allows for one job (402). */
export function checkJobCompute(units: number, plan: Plan, plans: readonly Plan[]): void {
  const limit = plan.max_compute_units_per_job;
  if (limit < 0 || units <= limit) return;
  const upgrade = planAllowing(plans, plan, 'max_compute_units_per_job', units);
  throw new AppError(
    'plan_limit_exceeded',
    `This job costs ${units} compute units; the ${plan.name} plan allows ${limit} per job${upgrade ? ` (the ${upgrade} plan allows it)` : ''}`,
    { extra: { limit: 'max_compute_units_per_job', limit_value: limit, value: units, plan: plan.code, ...(upgrade ? { upgrade_plan: upgrade } : {}) } },
  );
}

/** The refusal of a job whose compute units do not fit in what is left of the month (429). */
export function computeQuotaExceeded(plan: Plan, plans: readonly Plan[], used: number, units: number): AppError {
  const retryAfterS = Math.max(1, Math.ceil((nextMonthStart().getTime() - Date.now()) / 1000));
  const upgrade = planAllowing(plans, plan, 'compute_units_per_month', used + units);
  const limit = plan.compute_units_per_month;
  return new AppError(
    'quota_exceeded',
    `This job costs ${units} compute units and ${Math.max(0, limit - used)} are left this month; the ${plan.name} plan allows ${limit} per month`,
    {
      headers: { 'Retry-After': String(retryAfterS) },
      extra: { limit: 'compute_units_per_month', limit_value: limit, used, value: units, plan: plan.code, ...(upgrade ? { upgrade_plan: upgrade } : {}) },
    },
  );
}

/**
 * Which jobs of a write fit in the month's compute units, in arrival order (a job that does not
 * fit is refused, a later smaller one may still fit), and the month's usage each refused one saw.
 * With a monthly limit the tenant's writes take an advisory lock first, so the limit holds
 * exactly whatever runs at once (a write is one transaction; the lock is held until it commits,
 * after its units are recorded). Call inside the transaction that writes and counts the jobs.
 */
export async function computeRoom(trx: Knex.Transaction, tenantId: string, plan: Plan, units: readonly number[]): Promise<{ fits: boolean[]; usedAt: number[] }> {
  const limit = plan.compute_units_per_month;
  if (limit < 0 || units.length === 0) return { fits: units.map(() => true), usedAt: units.map(() => 0) };
  await lockTenant(trx, 'compute-quota', tenantId);
  let used = (await monthlyTotals(trx, tenantId))[USAGE_METRICS.computeUnits] ?? 0;
  const fits: boolean[] = [];
  const usedAt: number[] = [];
  for (const cost of units) {
    usedAt.push(used);
    const fit = used + cost <= limit;
    fits.push(fit);
    if (fit) used += cost;
  }
  return { fits, usedAt };
}
