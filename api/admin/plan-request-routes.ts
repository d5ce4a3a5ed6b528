/**
 * Operators decide plan requests: `GET /admin/api/plan-requests?status=pending` (every tenant's,
 * oldest first), `GET /admin/api/plan-requests/:id`, `POST /admin/api/plan-requests/:id/approve`
 * (the tenant moves to the plan at once) and `POST /admin/api/plan-requests/:id/reject`.
 *
 * Operator credentials only (ADMIN_USER/ADMIN_PASSWORD as basic auth, or ADMIN_TOKEN as a
 * bearer), as for the queue board; tenant keys and tokens are never accepted. Without operator
 * credentials configured these routes do not exist (404). Decisions are not governed by
 * ADMIN_READ_ONLY, which is about the queue board's actions.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { AppError } from '../../shared/errors.ts';
import { operatorAccessConfigured, requireOperator } from './operator-auth.ts';
import { OperatorLockout } from './operator-lockout.ts';
import { requestMeta } from '../auth/request-meta.ts';
import { problem } from '../auth/schemas.ts';
import { PLAN_REQUEST_STATUSES } from '../billing/plan-request-store.ts';
import { ADMIN_PLAN_REQUEST, adminPlanRequestView, DECISION } from '../billing/schemas.ts';
import { defineRoute } from '../routing.ts';
import type { ApiContext, ApiDeps, ApiState } from '../state.ts';

export const ADMIN_API_PREFIX = '/admin/api';
export const OPERATOR_BASIC_SCHEME = 'operatorBasic';
export const OPERATOR_BEARER_SCHEME = 'operatorToken';

/** Most requests one list answer carries. */
export const MAX_LIST_LIMIT = 500;

const LIST_QUERY = z
  .object({
    status: z.enum(PLAN_REQUEST_STATUSES, { error: `must be one of: ${PLAN_REQUEST_STATUSES.join(', ')}` }).optional().describe('Only requests in this status'),
    limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(100).describe(`At most this many (1..${MAX_LIST_LIMIT}, default 100)`),
  })
  .openapi('PlanRequestListQuery');
const ID_PARAMS = z.object({ id: z.uuid({ error: 'must be a UUID' }) });

/** The operator's name for the audit log: the basic-auth user, or `token` for ADMIN_TOKEN. */
function operatorName(ctx: ApiContext, adminUser: string | undefined): string {
  return /^Basic\s/i.test(ctx.get('authorization')) && adminUser ? adminUser : 'token';
}

export function adminPlanRequestRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { config } = deps.runtime;
  if (!operatorAccessConfigured(config)) return router;
  const lockout = new OperatorLockout(deps.runtime.redis, config.REDIS_PREFIX);
  const { subscriptions } = deps;

  // Before any route's validation: without operator credentials, nothing about the input is said.
  router.use(`${ADMIN_API_PREFIX}/plan-requests`, async (ctx, next) => {
    await requireOperator(ctx, config, lockout);
    // Basic credentials ride along on cross-site requests; decisions must not.
    if (ctx.method !== 'GET' && ctx.get('sec-fetch-site') === 'cross-site') {
      throw new AppError('forbidden', 'Cross-site requests cannot decide plan requests');
    }
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  const operator = (ctx: ApiContext) => ({ name: operatorName(ctx, config.ADMIN_USER), meta: requestMeta(ctx) });
  const operatorErrors = {
    401: problem('Operator credentials are required'),
    429: problem('Too many wrong operator credentials from this address'),
  };

  defineRoute(router, registry, deps, {
    method: 'get',
    path: `${ADMIN_API_PREFIX}/plan-requests`,
    summary: "Plan requests of every tenant, oldest first (operators)",
    tags: ['Operators'],
    auth: 'public',
    query: LIST_QUERY,
    responses: { 200: { description: 'The requests', schema: z.object({ data: z.array(ADMIN_PLAN_REQUEST) }) }, ...operatorErrors },
    handler: async (ctx, { query }) => {
      const rows = await subscriptions.list({ status: query.status, limit: query.limit });
      ctx.body = { data: rows.map(adminPlanRequestView) };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: `${ADMIN_API_PREFIX}/plan-requests/:id`,
    summary: 'One plan request (operators)',
    tags: ['Operators'],
    auth: 'public',
    params: ID_PARAMS,
    responses: { 200: { description: 'The request', schema: ADMIN_PLAN_REQUEST }, ...operatorErrors },
    handler: async (ctx, { params }) => {
      const row = await subscriptions.find(params.id);
      if (!row) throw new AppError('not_found', `No plan request ${params.id}`);
      ctx.body = adminPlanRequestView(row);
    },
  });

  for (const [action, decision] of [['approve', 'approved'], ['reject', 'rejected']] as const) {
    defineRoute(router, registry, deps, {
      method: 'post',
      path: `${ADMIN_API_PREFIX}/plan-requests/:id/${action}`,
      summary:
        decision === 'approved'
          ? 'Approve a pending plan request: the tenant moves to the plan at once (operators)'
          : 'Reject a pending plan request; the tenant keeps its plan (operators)',
      tags: ['Operators'],
      auth: 'public',
      params: ID_PARAMS,
      body: DECISION,
      responses: {
        200: { description: 'The decided request', schema: ADMIN_PLAN_REQUEST },
        409: problem('The request is no longer pending'),
        ...operatorErrors,
      },
      handler: async (ctx, { params, body }) => {
        const who = operator(ctx);
        ctx.body = adminPlanRequestView(await subscriptions.decide(params.id, decision, who, body.reason));
      },
    });
  }

  // defineRoute documents `public` routes without security; these take operator credentials.
  registry.registerComponent('securitySchemes', OPERATOR_BASIC_SCHEME, {
    type: 'http',
    scheme: 'basic',
    description: 'ADMIN_USER and ADMIN_PASSWORD (operators, not tenants)',
  });
  registry.registerComponent('securitySchemes', OPERATOR_BEARER_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'ADMIN_TOKEN (operators, not tenants)',
  });
  for (const definition of registry.definitions) {
    if (definition.type === 'route' && definition.route.path.startsWith(`${ADMIN_API_PREFIX}/`)) {
      definition.route.security = [{ [OPERATOR_BASIC_SCHEME]: [] }, { [OPERATOR_BEARER_SCHEME]: [] }];
    }
  }
  return router;
}
