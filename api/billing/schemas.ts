/** Schemas of the subscription and plan-request routes (from the wire schemas) and the views that fill them. */
import type { z } from 'zod';
import type { ADMIN_PLAN_REQUEST, PLAN_REQUEST } from '../../shared/wire/billing.ts';
import type { PlanRequestRow } from './plan-request-store.ts';

export { PLAN_REQUEST, ADMIN_PLAN_REQUEST, SUBSCRIPTION, SUBSCRIPTION_CHANGE, DECISION } from '../../shared/wire/billing.ts';

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

export function planRequestView(row: PlanRequestRow): z.infer<typeof PLAN_REQUEST> {
  return {
    id: row.id,
    from_plan: row.from_plan,
    to_plan: row.to_plan,
    status: row.status,
    reason: row.reason,
    created_at: new Date(row.created_at).toISOString(),
    decided_at: iso(row.decided_at),
  };
}

export function adminPlanRequestView(row: PlanRequestRow & { tenant_name?: string }): z.infer<typeof ADMIN_PLAN_REQUEST> {
  return {
    ...planRequestView(row),
    tenant_id: row.tenant_id,
    ...(row.tenant_name !== undefined ? { tenant_name: row.tenant_name } : {}),
    requested_by: row.requested_by,
    decided_by: row.decided_by,
  };
}
