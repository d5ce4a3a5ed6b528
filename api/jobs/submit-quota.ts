/**
 * The monthly jobs quota (`jobs_per_month`) for a write of several submissions of one tenant.
 *
 * Far from the limit, concurrent writes cannot overshoot it (only a bounded number of jobs are
 * ever being written at once), so the check reads the month's usage without a lock. Within
 * {@link QUOTA_EXACT_MARGIN} jobs of the limit, writes of a tenant take an advisory lock and read
 * again, so the limit holds exactly. A write of n jobs with room for k < n accepts the first k
 * (in arrival order) and refuses the others exactly as each would have been refused alone.
 */
import type { Knex } from 'knex';
import { AppError } from '../../shared/errors.ts';
import type { Plan } from '../../shared/plans.ts';
import { monthlyTotals, nextMonthStart, totalJobs } from '../../shared/usage.ts';

/**
 * Within this many jobs of the monthly limit (counting the jobs being written), writes of a
 * tenant take an advisory lock so the limit holds exactly; below it they run in parallel (the
 * jobs in flight are bounded by the API processes' batch sizes and connection pools, far below this).
 */
export const QUOTA_EXACT_MARGIN = 1000;

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
 * Call inside the transaction that writes the accepted jobs.
 */
export async function jobsRoom(trx: Knex.Transaction, tenantId: string, plan: Plan, wanted: number): Promise<{ room: number; usedAfter: number }> {
  if (plan.jobs_per_month < 0 || wanted === 0) return { room: wanted, usedAfter: 0 };
  let used = totalJobs(await monthlyTotals(trx, tenantId));
  if (used + wanted + QUOTA_EXACT_MARGIN >= plan.jobs_per_month) {
    await lockTenant(trx, 'jobs-quota', tenantId);
    used = totalJobs(await monthlyTotals(trx, tenantId));
  }
  const room = Math.min(wanted, Math.max(0, plan.jobs_per_month - used));
  return { room, usedAfter: used + room };
}
