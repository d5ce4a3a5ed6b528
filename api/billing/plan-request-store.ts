/**
 * The SQL of plan requests (`plan_requests`): a tenant's request to move to a plan that needs a
 * decision, pending until an operator (or a billing provider) approves or rejects it, or the
 * tenant cancels it. At most one request of a tenant is pending (a unique partial index).
 *
 * Tenant-side functions take a tenant transaction (`withTenant`). The operator's reads
 * (`listPlanRequests`, `findPlanRequest`) span tenants: they go through SECURITY DEFINER functions
 * (migration 0012), and every change after them is made in the request's tenant transaction.
 */
import type { Knex } from 'knex';
import { PLAN_REQUEST_STATUSES } from '../../shared/wire/billing.ts';

export { PLAN_REQUEST_STATUSES };
export type PlanRequestStatus = (typeof PLAN_REQUEST_STATUSES)[number];
/** The statuses a pending request can end in. */
export type PlanRequestDecision = Exclude<PlanRequestStatus, 'pending'>;

export interface PlanRequestRow {
  id: string;
  tenant_id: string;
  from_plan: string;
  to_plan: string;
  status: PlanRequestStatus;
  requested_by: string | null;
  decided_by: string | null;
  reason: string | null;
  created_at: Date;
  decided_at: Date | null;
  updated_at: Date;
}

/** The tenant's pending request, locked for the transaction when `lock` is set. */
export async function pendingPlanRequest(trx: Knex.Transaction, tenantId: string, options: { lock?: boolean } = {}): Promise<PlanRequestRow | undefined> {
  const query = trx('plan_requests').where({ tenant_id: tenantId, status: 'pending' });
  if (options.lock) void query.forUpdate();
  return query.first<PlanRequestRow | undefined>();
}

export async function insertPlanRequest(
  trx: Knex.Transaction,
  request: { tenantId: string; fromPlan: string; toPlan: string; requestedBy: string | null },
): Promise<PlanRequestRow> {
  const [row] = (await trx('plan_requests')
    .insert({ tenant_id: request.tenantId, from_plan: request.fromPlan, to_plan: request.toPlan, requested_by: request.requestedBy })
    .returning('*')) as PlanRequestRow[];
  if (!row) throw new Error('inserting a plan request returned no row');
  return row;
}

/** Ends a pending request; undefined when it is no longer pending (someone decided first). */
export async function closePlanRequest(
  trx: Knex.Transaction,
  id: string,
  decision: { status: PlanRequestDecision; decidedBy: string; reason?: string | null },
): Promise<PlanRequestRow | undefined> {
  const [row] = (await trx('plan_requests')
    .where({ id, status: 'pending' })
    .update({ status: decision.status, decided_by: decision.decidedBy, reason: decision.reason ?? null, decided_at: trx.fn.now(), updated_at: trx.fn.now() })
    .returning('*')) as PlanRequestRow[];
  return row;
}

/**
 * A request by id, whatever its tenant (operator use): through a definer function, since the
 * API's login sees no rows outside a tenant.
 */
export async function findPlanRequest(db: Knex, id: string): Promise<PlanRequestRow | undefined> {
  const { rows } = await db.raw<{ rows: Array<PlanRequestRow & { tenant_name: string }> }>('select * from catalytic_plan_request(?)', [id]);
  const found = rows[0];
  if (!found) return undefined;
  const { tenant_name: _name, ...row } = found;
  return row;
}

/** Requests of every tenant, oldest first (the queue operators work through), with the tenant's name. */
export async function listPlanRequests(
  db: Knex,
  options: { status?: PlanRequestStatus; limit: number },
): Promise<Array<PlanRequestRow & { tenant_name: string }>> {
  const { rows } = await db.raw<{ rows: Array<PlanRequestRow & { tenant_name: string }> }>('select * from catalytic_plan_requests(?, ?)', [
    options.status ?? null,
    options.limit,
  ]);
  return rows;
}
