/**
 * The tenant's plan: `GET /api/subscription` shows it; `POST /api/subscription` {plan_code}
 * changes it (owner only). A change applies to the very next request and fetch round: limits,
 * rate limits and queue weight are read from the plan, never cached per tenant.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { recordAudit } from '../../shared/audit.ts';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { getPlan } from '../../shared/plans.ts';
import { requestMeta } from '../auth/request-meta.ts';
import { PLAN, PLAN_CODE } from '../auth/schemas.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiRouterContext, ApiState } from '../state.ts';
import { planView } from './plans.ts';

const SUBSCRIPTION = z.object({ plan_code: PLAN_CODE, plan: PLAN }).openapi('Subscription');
const CHANGE = z.object({ plan_code: PLAN_CODE }).openapi('SubscriptionChange');

function principalOf(ctx: ApiRouterContext) {
  const principal = ctx.state.principal;
  if (!principal) throw new AppError('unauthorized');
  return principal;
}

export function subscriptionRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/subscription',
    summary: "The tenant's plan",
    tags: ['billing'],
    auth: {},
    responses: { 200: { description: 'The current plan', schema: SUBSCRIPTION } },
    handler: async (ctx) => {
      const principal = principalOf(ctx);
      const plan = await getPlan(db, principal.planCode);
      if (!plan) throw new Error(`No plan ${principal.planCode}`);
      ctx.body = { plan_code: plan.code, plan: planView(plan) };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/subscription',
    summary: 'Change plan (owner only); limits and queue weight change at once',
    tags: ['billing'],
    auth: { roles: ['owner'] },
    body: CHANGE,
    responses: { 200: { description: 'The new plan', schema: SUBSCRIPTION } },
    handler: async (ctx, { body }) => {
      const principal = principalOf(ctx);
      const plan = await getPlan(db, body.plan_code);
      if (!plan) throw new AppError('validation_failed', `No plan ${body.plan_code}`);
      await withTenant(db, principal.tenantId, async (trx) => {
        const current = await trx('tenants')
          .where('id', principal.tenantId)
          .forUpdate()
          .first<{ plan_code: string } | undefined>('plan_code');
        if (!current) throw new AppError('not_found', 'No such tenant');
        if (current.plan_code === plan.code) return;
        await trx('tenants').where('id', principal.tenantId).update({ plan_code: plan.code, updated_at: trx.fn.now() });
        await recordAudit(trx, {
          tenantId: principal.tenantId,
          userId: principal.userId,
          action: 'subscription.changed',
          ...requestMeta(ctx),
          details: { from: current.plan_code, to: plan.code },
        });
      });
      // Committed: the tenant's credentials carry its plan; drop them here and in every API process.
      await deps.identity.credentials.invalidations.invalidate({ tenantId: principal.tenantId });
      ctx.body = { plan_code: plan.code, plan: planView(plan) };
    },
  });

  return router;
}
