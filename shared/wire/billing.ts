/** Wire schemas of the subscription and plan-request routes, shared by the API and the SDK. */
import './openapi-zod.ts';
import { z } from 'zod';
import { PLAN, PLAN_CODE, text, TIMESTAMP } from './identity.ts';

export const PLAN_REQUEST_STATUSES = ['pending', 'approved', 'rejected', 'cancelled'] as const;

/** A plan request as its tenant sees it. */
export const PLAN_REQUEST = z
  .object({
    id: z.uuid(),
    from_plan: z.string(),
    to_plan: z.string(),
    status: z.enum(PLAN_REQUEST_STATUSES).describe('pending until approved or rejected by an operator, or cancelled'),
    reason: z.string().nullable().describe("The decision's reason, when one was given"),
    created_at: TIMESTAMP,
    decided_at: TIMESTAMP.nullable(),
  })
  .openapi('PlanRequest', { description: 'A request to move to a paid plan, decided by an operator' });

/** A plan request as operators see it: with its tenant and who asked and decided. */
export const ADMIN_PLAN_REQUEST = PLAN_REQUEST.extend({
  tenant_id: z.uuid(),
  tenant_name: z.string().optional(),
  requested_by: z.uuid().nullable().describe('The user who asked'),
  decided_by: z.string().nullable().describe('`operator:<name>`, `user:<id>` (withdrawn) or `system` (replaced)'),
}).openapi('AdminPlanRequest');

export const SUBSCRIPTION = z
  .object({
    plan_code: PLAN_CODE,
    plan: PLAN,
    pending_request: z.union([PLAN_REQUEST, z.null()]).describe('The request awaiting a decision, if any'),
    recent_requests: z.array(PLAN_REQUEST).describe('The latest requests, newest first (at most 5)'),
  })
  .openapi('Subscription');

export const SUBSCRIPTION_CHANGE = z.object({ plan_code: PLAN_CODE }).openapi('SubscriptionChange');

export const DECISION = z
  .object({ reason: text(500).optional().describe('Why; shown to the tenant') })
  .openapi('PlanRequestDecision');
