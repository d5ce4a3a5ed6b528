/**
 * The SQL of plan requests (`plan_requests`): a tenant's request to move to a plan that needs a
 * decision, pending until an operator (or a billing provider) approves or rejects it, or the
 * tenant cancels it. At most one request of a tenant is pending (a unique partial index).
 *
 * Tenant-side functions take a tenant transaction (`withTenant`). The operator's reads
 * (`listPlanRequests`, `findPlanRequest`) span tenants: they run on the owner connection, and
 * every change after them is made in the request's tenant transaction.
 */
import type { Knex } from 'knex';

export const PLAN_REQUEST_STATUSES = ['pending', 'approved', 'rejected', 'cancelled'] as const;
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

/** A request by id, whatever its tenant (operator use). */
export async function findPlanRequest(db: Knex, id: string): Promise<PlanRequestRow | undefined> {
  return db('plan_requests').where({ id }).first<PlanRequestRow | undefined>();
}

/** Requests of every tenant, oldest first (the queue operators work through), with the tenant's name. */
export async function listPlanRequests(
  db: Knex,
  options: { status?: PlanRequestStatus; limit: number },
): Promise<Array<PlanRequestRow & { tenant_name: string }>> {
  const query = db('plan_requests as r').join('tenants as t', 't.id', 'r.tenant_id').select('r.*', 't.name as tenant_name');
  if (options.status) void query.where('r.status', options.status);
  return query.orderBy([{ column: 'r.created_at' }, { column: 'r.id' }]).limit(options.limit);
}
