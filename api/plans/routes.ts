/** `GET /api/plans`: the plans and their limits (public, -1 = unlimited). */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { listPlans, type Plan } from '../../shared/plans.ts';
import { PLAN } from '../auth/schemas.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

/** A plan as clients see it (the row without bookkeeping columns). */
export function planView(plan: Plan): z.infer<typeof PLAN> {
  return {
    code: plan.code,
    name: plan.name,
    price_cents: plan.price_cents,
    weight: plan.weight,
    max_concurrent_jobs: plan.max_concurrent_jobs,
    max_lattices: plan.max_lattices,
    max_webhooks: plan.max_webhooks,
    max_seats: plan.max_seats,
    max_dimensions: plan.max_dimensions,
    max_side: plan.max_side,
    max_cells: plan.max_cells,
    api_calls_per_month: plan.api_calls_per_month,
    jobs_per_month: plan.jobs_per_month,
    requests_per_minute: plan.requests_per_minute,
    retention_days: plan.retention_days,
    max_job_runtime_ms: plan.max_job_runtime_ms,
    max_compute_units_per_job: plan.max_compute_units_per_job,
    compute_units_per_month: plan.compute_units_per_month,
    max_storage_bytes: plan.max_storage_bytes,
    stores_artefacts: plan.stores_artefacts,
    max_picture_pixels: Number(plan.max_picture_pixels),
  };
}

export function planRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/plans',
    summary: 'The plans and their limits',
    tags: ['Account'],
    auth: 'public',
    responses: { 200: { description: 'Every plan, cheapest first', schema: z.object({ data: z.array(PLAN) }) } },
    handler: async (ctx) => {
      const plans = await listPlans(deps.runtime.db);
      ctx.set('Cache-Control', 'public, max-age=60');
      ctx.body = { data: plans.map(planView) };
    },
  });

  return router;
}
