/**
 * The tenant's plan: `GET /api/subscription` shows it with its pending plan request;
 * `POST /api/subscription` {plan_code} changes it (owner only) — at once for a free plan or a
 * downgrade (limits, rate limits and queue weight change with the very next request), as a
 * pending request for an upgrade to a paid plan (202; an operator approves or rejects it);
 * `DELETE /api/subscription/request` withdraws the pending request. See api/billing/subscriptions.ts.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import type { Principal } from '../../shared/auth/principal.ts';
import { AppError } from '../../shared/errors.ts';
import { requestMeta } from '../auth/request-meta.ts';
import { problem } from '../auth/schemas.ts';
import { PLAN_REQUEST, planRequestView, SUBSCRIPTION, SUBSCRIPTION_CHANGE } from '../billing/schemas.ts';
import type { Requester, SubscriptionState } from '../billing/subscriptions.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiRouterContext, ApiState } from '../state.ts';
import { planView } from '../plans/routes.ts';

function requesterOf(ctx: ApiRouterContext, principal: Principal): Requester {
  return { tenantId: principal.tenantId, userId: principal.userId, apiKeyId: principal.apiKeyId, meta: requestMeta(ctx) };
}

function subscriptionView(state: SubscriptionState) {
  return {
    plan_code: state.plan.code,
    plan: planView(state.plan),
    pending_request: state.pending ? planRequestView(state.pending) : null,
    recent_requests: state.recent.map(planRequestView),
  };
}

export function subscriptionRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { subscriptions } = deps;

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/subscription',
    summary: "The tenant's plan and its pending plan request",
    tags: ['Account'],
    auth: {},
    responses: { 200: { description: 'The current plan', schema: SUBSCRIPTION } },
    handler: async (ctx, { principal }) => {
      ctx.body = subscriptionView(await subscriptions.state(principal.tenantId));
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/subscription',
    summary: 'Change plan (owner only): a free plan or a downgrade at once; an upgrade to a paid plan awaits approval',
    tags: ['Account'],
    auth: { roles: ['owner'] },
    body: SUBSCRIPTION_CHANGE,
    responses: {
      200: { description: 'Changed at once (or already on that plan): the new plan', schema: SUBSCRIPTION },
      202: { description: 'An upgrade to a paid plan: the plan is unchanged and `pending_request` awaits a decision', schema: SUBSCRIPTION },
      403: problem('An upgrade asked for before the address is confirmed (`email_unverified`: follow the mailed link, or POST /api/me/email/verify for a new one)'),
      409: problem('The plan changed while the request was handled; retry'),
    },
    handler: async (ctx, { body, principal }) => {
      // An upgrade reaches an operator (or a payment provider) only from a confirmed address.
      if (await subscriptions.needsApproval(principal.tenantId, body.plan_code)) await deps.verification.assertVerified(principal, 'ask for a paid plan');
      const { outcome, state } = await subscriptions.change(requesterOf(ctx, principal), body.plan_code);
      ctx.status = outcome === 'pending' ? 202 : 200;
      ctx.body = subscriptionView(state);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'delete',
    path: '/api/subscription/request',
    summary: 'Withdraw the pending plan request (owner only)',
    tags: ['Account'],
    auth: { roles: ['owner'] },
    responses: {
      200: { description: 'The withdrawn request, now cancelled', schema: PLAN_REQUEST },
      404: problem('No plan request is pending'),
    },
    handler: async (ctx, { principal }) => {
      const cancelled = await subscriptions.cancel(requesterOf(ctx, principal));
      if (!cancelled) throw new AppError('not_found', 'No plan request is pending');
      ctx.body = planRequestView(cancelled);
    },
  });

  return router;
}
