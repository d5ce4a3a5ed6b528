/**
 * Sign-up: `POST /api/tenants/register` creates a tenant, its owner and a first session. A sign-up
 * asking for a paid plan starts on the free plan; the plan becomes a pending request once the
 * owner confirms the address.
 * Limited per client IP (RATE_LIMIT_REGISTER_PER_HOUR).
 */
import { randomUUID } from 'node:crypto';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { registerTenant } from '../auth/register-tenant.ts';
import { requestMeta } from '../auth/request-meta.ts';
import { problem } from '../auth/schemas.ts';
import { REGISTERED, REGISTRATION } from '../../shared/wire/registration.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

export function tenantRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { runtime, identity, subscriptions } = deps;

  router.use('/api/tenants/register', identity.rateLimits.perIp('register'));

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/tenants/register',
    summary: 'Sign up: create a tenant with its owner user, and sign the owner in (a paid plan becomes a pending request once the address is confirmed)',
    tags: ['Account'],
    auth: 'public',
    limitedByAddress: true,
    body: REGISTRATION,
    responses: {
      201: { description: 'The tenant, its owner and a token pair', schema: REGISTERED },
      409: problem('The email is already registered'),
      429: problem('Too many sign-ups from this address'),
    },
    handler: async (ctx, { body }) => {
      const tenantId = randomUUID();
      const plan = await subscriptions.signUpPlan(tenantId, body.plan_code);
      const { requestedPlan, ...registration } = await registerTenant(runtime.db, identity.sessions, body, requestMeta(ctx), {
        tenantId,
        plan,
        subscriptions,
      });
      // Committed: the owner's address-check mail goes out (queued; the account is usable meanwhile).
      await deps.verification.sendAfterSignUp(registration.tenant.id, registration.user.id, registration.user.email, requestMeta(ctx));
      ctx.status = 201;
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Location', '/api/me');
      ctx.body = { ...registration, plan_request: null, requested_plan: requestedPlan };
    },
  });

  return router;
}
