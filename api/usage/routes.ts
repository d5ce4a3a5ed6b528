/**
 * `GET /api/usage?from=&to=`: the tenant's usage per UTC day (API calls, jobs by type, compute
 * cells and units) between two days, this month's totals against the plan's monthly quotas, and the
 * bytes of blobs kept against the storage quota.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { storedBytes } from '../../shared/blobs/index.ts';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { getPlan } from '../../shared/plans.ts';
import { DAY } from '../../shared/units.ts';
import { monthlyTotals, monthStart, totalJobs, USAGE_METRICS, usageDay, usageSeries } from '../../shared/usage.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

/** Longest range one request may ask for, in days. */
export const MAX_RANGE_DAYS = 366;

const DAY_PARAM = z.iso.date({ error: 'must be a date, YYYY-MM-DD' });
const QUERY = z
  .object({
    from: DAY_PARAM.optional().describe('First day (UTC), inclusive; default: the first of this month'),
    to: DAY_PARAM.optional().describe('Last day (UTC), inclusive; default: today'),
  })
  .openapi('UsageQuery');

const METRICS = z.record(z.string(), z.number().int()).describe('Counter values by metric: api_calls, jobs.<type>, compute_cells, compute_units');
const QUOTA = z.object({
  used: z.number().int(),
  limit: z.number().int().describe('-1 = unlimited'),
  remaining: z.number().int().nullable().describe('null when unlimited'),
});
const USAGE = z
  .object({
    from: z.string(),
    to: z.string(),
    days: z.array(z.object({ day: z.string(), metrics: METRICS })),
    totals: METRICS.describe('Sums over the range'),
    month: z.object({
      start: z.string(),
      totals: METRICS,
      quotas: z.object({
        api_calls: QUOTA,
        jobs: QUOTA,
        compute_units: QUOTA.describe('Compute units charged this month (at acceptance) against compute_units_per_month'),
        storage_bytes: QUOTA.describe('Bytes of blobs (uploaded maps, result artefacts) kept now, against max_storage_bytes'),
      }),
    }),
  })
  .openapi('Usage');

function quota(used: number, limit: number): z.infer<typeof QUOTA> {
  return { used, limit, remaining: limit < 0 ? null : Math.max(0, limit - used) };
}

function eachDay(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY) days.push(usageDay(new Date(t)));
  return days;
}

export function usageRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/usage',
    summary: "The tenant's usage per day, and this month's totals against the plan",
    tags: ['Account'],
    auth: { scopes: ['usage:read'] },
    query: QUERY,
    responses: { 200: { description: 'Usage series and monthly totals', schema: USAGE } },
    handler: async (ctx, { query, principal }) => {
      const today = usageDay();
      const from = query.from ?? monthStart(today);
      const to = query.to ?? today;
      if (from > to) throw new AppError('validation_failed', '`from` must not be after `to`', { extra: { errors: [{ path: 'query.from', message: 'must not be after to' }] } });
      const rangeDays = (Date.parse(to) - Date.parse(from)) / DAY + 1;
      if (rangeDays > MAX_RANGE_DAYS) {
        throw new AppError('validation_failed', `The range may span at most ${MAX_RANGE_DAYS} days`, {
          extra: { errors: [{ path: 'query.to', message: `must be within ${MAX_RANGE_DAYS} days of from` }] },
        });
      }

      // API calls are counted in memory and written about once a second: write this process's
      // pending ones (this call included) first, so the figures include them.
      await deps.identity.quota.flush(principal.tenantId);
      const { points, month, stored } = await withTenant(db, principal.tenantId, async (trx) => ({
        points: await usageSeries(trx, principal.tenantId, from, to),
        month: await monthlyTotals(trx, principal.tenantId, today),
        stored: await storedBytes(trx, principal.tenantId),
      }));
      const plan = await getPlan(db, principal.planCode);
      if (!plan) throw new Error(`No plan ${principal.planCode}`);

      const byDay = new Map<string, Record<string, number>>();
      const totals: Record<string, number> = {};
      for (const point of points) {
        const metrics = byDay.get(point.day) ?? {};
        metrics[point.metric] = point.value;
        byDay.set(point.day, metrics);
        totals[point.metric] = (totals[point.metric] ?? 0) + point.value;
      }
      ctx.body = {
        from,
        to,
        days: eachDay(from, to).map((day) => ({ day, metrics: byDay.get(day) ?? {} })),
        totals,
        month: {
          start: monthStart(today),
          totals: month,
          quotas: {
            api_calls: quota(month[USAGE_METRICS.apiCalls] ?? 0, plan.api_calls_per_month),
            jobs: quota(totalJobs(month), plan.jobs_per_month),
            compute_units: quota(month[USAGE_METRICS.computeUnits] ?? 0, plan.compute_units_per_month),
            storage_bytes: quota(stored, plan.max_storage_bytes),
          },
        },
      };
    },
  });

  return router;
}
