/**
 * `GET /api/audit`: the tenant's audit log, newest first, for owners and admins — who did what to
 * the tenant's identity, team and billing, from where. Filters by action (one or several,
 * comma-separated; `member.*` for a family) and by actor (a user id); pages by cursor.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { AUDIT_ACTIONS } from '../../shared/audit.ts';
import { withTenant } from '../../shared/db.ts';
import { listCursorParam } from '../../shared/list-cursor.ts';
import type { AUDIT_ENTRY} from '../../shared/wire/account.ts';
import { AUDIT_PAGE } from '../../shared/wire/account.ts';
import { listPage } from '../list-page.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';
import { type AuditRow, listAudit } from './store.ts';

const ACTION_PATTERN = /^[a-z_]+\.(\*|[a-z_]+)$/;

const QUERY = z.object({
  action: z
    .string()
    .max(1000)
    .refine((v) => v.split(',').every((a) => ACTION_PATTERN.test(a.trim())), { error: 'must be actions like member.removed or member.*, comma-separated' })
    .optional()
    .describe(`Comma-separated actions; \`family.*\` for every action of a family. Known: ${AUDIT_ACTIONS.join(', ')}`),
  actor: z.uuid({ error: 'must be a user id (UUID)' }).optional().describe('Only entries made by this user'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

/** `member.*` → every known action of the family; an unknown exact action matches nothing. */
function expandActions(text: string | undefined): string[] | undefined {
  if (!text) return undefined;
  const out = text.split(',').flatMap((a) => {
    const action = a.trim();
    return action.endsWith('.*') ? AUDIT_ACTIONS.filter((known) => known.startsWith(action.slice(0, -1))) : [action];
  });
  return out.length ? out : ['none'];
}

function present(row: AuditRow): z.infer<typeof AUDIT_ENTRY> {
  return {
    id: row.id,
    action: row.action,
    actor: { user_id: row.user_id, api_key_id: row.api_key_id },
    ip: row.ip,
    user_agent: row.user_agent,
    details: row.details,
    created_at: row.created_at.toISOString(),
  };
}

export function auditRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/audit',
    summary: "The tenant's audit log, newest first (owners and admins)",
    tags: ['Team'],
    auth: { roles: ['owner', 'admin'] },
    query: QUERY,
    responses: { 200: { description: 'A page of entries', schema: AUDIT_PAGE } },
    handler: async (ctx, { query, principal }) => {
      const after = listCursorParam(query.cursor);
      const actions = expandActions(query.action);
      const { rows, next } = await withTenant(db, principal.tenantId, (trx) =>
        listAudit(trx, principal.tenantId, { limit: query.limit, after, ...(actions ? { actions } : {}), ...(query.actor ? { actor: query.actor } : {}) }),
      );
      ctx.body = listPage(rows, next, present);
    },
  });

  return router;
}
