/** `GET /api/me`: who is calling — the user or API key, its role and scopes, and the tenant. */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { ROLES } from '../../shared/auth/principal.ts';
import { withTenant } from '../../shared/db.ts';
import { SCOPE, TENANT, TIMESTAMP, USER } from '../auth/schemas.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';
import { readCaller } from './store.ts';

const ME = z
  .object({
    kind: z.enum(['user', 'api_key']).describe('How the request authenticated'),
    role: z.enum(ROLES).describe('The role in effect (an API key acts as at most a member)'),
    scopes: z.array(SCOPE),
    tenant: TENANT,
    user: z.union([USER, z.null()]).describe('The signed-in user, or the user who created the API key'),
    api_key: z
      .object({ id: z.uuid(), name: z.string(), prefix: z.string(), expires_at: TIMESTAMP.nullable() })
      .nullable(),
    token_expires_at: TIMESTAMP.nullable().describe('When the access token expires'),
  })
  .openapi('Me');

export function meRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/me',
    summary: 'Who is calling',
    tags: ['Account'],
    auth: {},
    responses: { 200: { description: 'The caller', schema: ME } },
    handler: async (ctx, { principal }) => {
      const { tenant, user, apiKey } = await withTenant(db, principal.tenantId, (trx) => readCaller(trx, principal));
      ctx.body = {
        kind: principal.kind,
        role: principal.role,
        scopes: [...principal.scopes].sort(),
        tenant,
        user: user ?? null,
        api_key: apiKey ?? null,
        token_expires_at: principal.tokenExpiresAt ? new Date(principal.tokenExpiresAt * 1000).toISOString() : null,
      };
    },
  });

  return router;
}
