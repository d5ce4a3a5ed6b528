/**
 * A tenant's plan and its plan requests: what `/api/subscription`, sign-up and the operators'
 * `/admin/api/plan-requests` do, apart from HTTP — downgrades at once, upgrades through the billing
 * provider (pending requests with `manual`), every step audited, cached credentials dropped on a
 * plan change. See docs/plans-and-limits.md › Plans and billing.
 */
import type { Knex } from 'knex';
import { recordAudit } from '../../shared/audit.ts';
import type { Db } from '../../shared/db.ts';
import { recordNotification } from '../../shared/notifications/record.ts';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { isSelfServeChange, type Plan, type PlanCode, STARTING_PLAN } from '../../shared/plans.ts';
import type { RequestMeta } from '../auth/request-meta.ts';
import type { BillingProvider } from './billing-provider.ts';
import {
  closePlanRequest,
  findPlanRequest,
  insertPlanRequest,
  listPlanRequests,
  pendingPlanRequest,
  type PlanRequestRow,
  type PlanRequestStatus,
} from './plan-request-store.ts';

/** How many of a tenant's requests `GET /api/subscription` shows. */
export const RECENT_REQUESTS = 5;

/** Who acts on a tenant's subscription: its user (or API key), with where the request came from. */
export interface Requester {
  tenantId: string;
  userId: string | null;
  apiKeyId?: string | null;
  meta: RequestMeta;
}

/** What a tenant sees of its subscription. */
export interface SubscriptionState {
  plan: Plan;
  pending: PlanRequestRow | undefined;
  recent: PlanRequestRow[];
}

export type ChangeOutcome = 'changed' | 'unchanged' | 'pending';

/** The plan a new tenant starts on, and the plan it asked for when that needs a decision. */
export interface SignUpPlan {
  start: PlanCode;
  requested?: PlanCode;
}

export interface SubscriptionsDeps {
  db: Db;
  provider: BillingProvider;
  plans: { get(code: string): Promise<Plan> };
  /** Drops the tenant's cached credentials in every API process (after a committed plan change). */
  invalidate(tenantId: string): Promise<void>;
}

export class Subscriptions {
  constructor(private readonly deps: SubscriptionsDeps) {}

  get provider(): BillingProvider {
    return this.deps.provider;
  }

  /** The tenant's plan, its pending request and its latest requests (newest first). */
  async state(tenantId: string): Promise<SubscriptionState> {
    return this.stateFrom(await withTenant(this.deps.db, tenantId, (trx) => readState(trx, tenantId)));
  }

  private async stateFrom({ planCode, recent }: StoredState): Promise<SubscriptionState> {
    return { plan: await this.deps.plans.get(planCode), pending: recent.find((r) => r.status === 'pending'), recent };
  }

  /**
   * Where a sign-up asking for `requested` starts: on it when it is free, else on the starting
   * plan with the request left pending (or on it at once when the provider says it is paid for).
   */
  async signUpPlan(tenantId: string, requested: PlanCode): Promise<SignUpPlan> {
    const [start, wanted] = await Promise.all([this.deps.plans.get(STARTING_PLAN), this.deps.plans.get(requested)]);
    if (isSelfServeChange(start, wanted)) return { start: wanted.code };
    const outcome = await this.deps.provider.requestUpgrade({ tenantId, from: start, to: wanted, requestedBy: null });
    return outcome === 'active' ? { start: wanted.code } : { start: start.code, requested: wanted.code };
  }

  /**
   * Keeps a sign-up's wish for a paid plan, in the sign-up's transaction: it becomes a pending
   * request only when the owner confirms the address (`openSignUpRequest`), so an unconfirmed
   * address never reaches an operator's queue.
   */
  async recordSignUpRequest(trx: Knex.Transaction, tenantId: string, userId: string, plan: SignUpPlan, meta: RequestMeta): Promise<void> {
    if (!plan.requested) return;
    await trx('tenants').where('id', tenantId).update({ requested_plan_code: plan.requested });
    await recordAudit(trx, {
      tenantId,
      userId,
      action: 'plan_request.deferred',
      ...meta,
      details: { from: plan.start, to: plan.requested, until: 'the address is confirmed' },
    });
  }

  /**
   * The owner confirmed the address: the plan the sign-up asked for becomes a pending request (in
   * the confirmation's transaction), unless the tenant is on it already or has a request pending.
   */
  async openSignUpRequest(trx: Knex.Transaction, tenantId: string, userId: string, meta: RequestMeta): Promise<PlanRequestRow | undefined> {
    const tenant = await trx('tenants').where('id', tenantId).forNoKeyUpdate().first<{ plan_code: string; requested_plan_code: string | null } | undefined>('plan_code', 'requested_plan_code');
    if (!tenant?.requested_plan_code) return undefined;
    await trx('tenants').where('id', tenantId).update({ requested_plan_code: null });
    const [from, to] = await Promise.all([this.deps.plans.get(tenant.plan_code), this.deps.plans.get(tenant.requested_plan_code)]);
    if (from.code === to.code || isSelfServeChange(from, to) || (await pendingPlanRequest(trx, tenantId, { lock: true }))) return undefined;
    const request = await insertPlanRequest(trx, { tenantId, fromPlan: from.code, toPlan: to.code, requestedBy: userId });
    await recordAudit(trx, {
      tenantId,
      userId,
      action: 'plan_request.created',
      ...meta,
      details: { request_id: request.id, from: from.code, to: to.code, at: 'sign-up', provider: this.deps.provider.name },
    });
    return request;
  }

  /** Whether moving the tenant to `toCode` needs a decision (an upgrade to a paid plan). */
  async needsApproval(tenantId: string, toCode: PlanCode): Promise<boolean> {
    const fromCode = await withTenant(this.deps.db, tenantId, (trx) => currentPlanCode(trx, tenantId));
    const [from, to] = await Promise.all([this.deps.plans.get(fromCode), this.deps.plans.get(toCode)]);
    return from.code !== to.code && !isSelfServeChange(from, to);
  }

  /**
   * The tenant asks for `toCode`: changed at once (self-serve, or settled by the provider),
   * unchanged (already on it), or pending (a request awaits a decision).
   */
  async change(requester: Requester, toCode: PlanCode): Promise<{ outcome: ChangeOutcome; state: SubscriptionState }> {
    const { tenantId } = requester;
    const fromCode = await withTenant(this.deps.db, tenantId, (trx) => currentPlanCode(trx, tenantId));
    const [from, to] = await Promise.all([this.deps.plans.get(fromCode), this.deps.plans.get(toCode)]);
    let outcome: ChangeOutcome;
    if (from.code === to.code) outcome = 'unchanged';
    else if (isSelfServeChange(from, to)) {
      await this.applyChange(requester, from, to, 'self-serve');
      outcome = 'changed';
    } else {
      // Asked before anything is written: a payment provider may call out.
      const settled = await this.deps.provider.requestUpgrade({ tenantId, from, to, requestedBy: requester.userId });
      if (settled === 'active') {
        await this.applyChange(requester, from, to, this.deps.provider.name);
        outcome = 'changed';
      } else {
        // The state as this request's transaction left it: a withdrawal racing in after the
        // commit must not turn the 202 into one without the request it opened.
        return { outcome: 'pending', state: await this.stateFrom(await this.openRequest(requester, from, to)) };
      }
    }
    return { outcome, state: await this.state(tenantId) };
  }

  /** Moves the tenant from `from` to `to` now, cancelling any pending request. */
  private async applyChange(requester: Requester, from: Plan, to: Plan, via: string): Promise<void> {
    const { tenantId } = requester;
    await withTenant(this.deps.db, tenantId, async (trx) => {
      const current = await currentPlanCode(trx, tenantId, { lock: true });
      // The plan changed since it was read (an approval, another request): decide again.
      if (current !== from.code) throw new AppError('conflict', 'The plan changed meanwhile; look at GET /api/subscription and retry');
      await trx('tenants').where('id', tenantId).update({ plan_code: to.code, updated_at: trx.fn.now() });
      await this.audit(trx, requester, 'subscription.changed', { from: from.code, to: to.code, via });
      const pending = await pendingPlanRequest(trx, tenantId, { lock: true });
      if (pending) await this.cancelPending(trx, requester, pending, 'system', `replaced by a change to ${to.code}`);
    });
    await this.deps.invalidate(tenantId);
  }

  /** Opens a pending request for `to` (replacing a pending one for another plan); idempotent. */
  private async openRequest(requester: Requester, from: Plan, to: Plan): Promise<StoredState> {
    const { tenantId } = requester;
    return withTenant(this.deps.db, tenantId, async (trx) => {
      const current = await currentPlanCode(trx, tenantId, { lock: true });
      if (current !== from.code) throw new AppError('conflict', 'The plan changed meanwhile; look at GET /api/subscription and retry');
      const pending = await pendingPlanRequest(trx, tenantId, { lock: true });
      if (pending?.to_plan === to.code) return readState(trx, tenantId);
      if (pending) await this.cancelPending(trx, requester, pending, 'system', `replaced by a request for ${to.code}`);
      const request = await insertPlanRequest(trx, { tenantId, fromPlan: from.code, toPlan: to.code, requestedBy: requester.userId });
      await this.audit(trx, requester, 'plan_request.created', {
        request_id: request.id,
        from: from.code,
        to: to.code,
        provider: this.deps.provider.name,
      });
      return readState(trx, tenantId);
    });
  }

  /** The tenant withdraws its pending request; undefined when there is none. */
  async cancel(requester: Requester): Promise<PlanRequestRow | undefined> {
    const { tenantId } = requester;
    return withTenant(this.deps.db, tenantId, async (trx) => {
      // The tenant row first, as every change of a tenant's plan or requests does: one lock order, no deadlock.
      await currentPlanCode(trx, tenantId, { lock: true });
      const pending = await pendingPlanRequest(trx, tenantId, { lock: true });
      if (!pending) return undefined;
      const by = requester.userId ? `user:${requester.userId}` : `api_key:${requester.apiKeyId ?? 'unknown'}`;
      return (await this.cancelPending(trx, requester, pending, by, 'withdrawn by the tenant')) ?? undefined;
    });
  }

  private async cancelPending(trx: Knex.Transaction, requester: Requester, pending: PlanRequestRow, by: string, reason: string): Promise<PlanRequestRow | null> {
    const closed = await closePlanRequest(trx, pending.id, { status: 'cancelled', decidedBy: by, reason });
    if (!closed) return null;
    await this.deps.provider.cancelled(closed);
    await this.audit(trx, requester, 'plan_request.cancelled', { request_id: closed.id, from: closed.from_plan, to: closed.to_plan, reason });
    return closed;
  }

  private audit(trx: Knex.Transaction, requester: Requester, action: Parameters<typeof recordAudit>[1]['action'], details: Record<string, unknown>) {
    return recordAudit(trx, {
      tenantId: requester.tenantId,
      userId: requester.userId,
      apiKeyId: requester.apiKeyId ?? null,
      action,
      ...requester.meta,
      details,
    });
  }

  /** Requests of every tenant, oldest first (operator use). */
  list(options: { status?: PlanRequestStatus; limit: number }): Promise<Array<PlanRequestRow & { tenant_name: string }>> {
    return listPlanRequests(this.deps.db, options);
  }

  /** One request, whatever its tenant (operator use). */
  find(id: string): Promise<PlanRequestRow | undefined> {
    return findPlanRequest(this.deps.db, id);
  }

  /**
   * An operator approves (the tenant moves to the requested plan) or rejects a pending request.
   * The provider's hook runs inside the transaction: a hook that throws undoes the decision.
   * 404 for an unknown request, 409 for one no longer pending.
   */
  async decide(
    id: string,
    decision: 'approved' | 'rejected',
    operator: { name: string; meta: RequestMeta },
    reason?: string,
  ): Promise<PlanRequestRow & { tenant_name: string }> {
    const found = await findPlanRequest(this.deps.db, id);
    if (!found) throw new AppError('not_found', `No plan request ${id}`);
    const decidedBy = `operator:${operator.name}`;
    const requester: Requester = { tenantId: found.tenant_id, userId: null, meta: operator.meta };
    const decided = await withTenant(this.deps.db, found.tenant_id, async (trx) => {
      const current = await currentPlanCode(trx, found.tenant_id, { lock: true });
      const closed = await closePlanRequest(trx, id, { status: decision, decidedBy, reason: reason ?? null });
      if (!closed) {
        const now = await trx('plan_requests').where({ id }).first<PlanRequestRow | undefined>('status');
        throw new AppError('conflict', `The plan request is already ${now?.status ?? 'gone'}`, { extra: { request_status: now?.status } });
      }
      const details = { request_id: id, from: closed.from_plan, to: closed.to_plan, operator: operator.name, ...(reason ? { reason } : {}) };
      if (decision === 'approved') {
        await this.deps.provider.approved(closed);
        await trx('tenants').where('id', found.tenant_id).update({ plan_code: closed.to_plan, updated_at: trx.fn.now() });
        await this.audit(trx, requester, 'plan_request.approved', details);
        await this.audit(trx, requester, 'subscription.changed', { from: current, to: closed.to_plan, via: 'plan_request', request_id: id, operator: operator.name });
      } else {
        await this.deps.provider.rejected(closed);
        await this.audit(trx, requester, 'plan_request.rejected', details);
      }
      // The owners hear of it by mail, sent by the scheduler once this commits.
      await recordNotification(trx, {
        tenantId: found.tenant_id,
        kind: 'plan_request_decided',
        key: `plan_request:${id}`,
        params: { to_plan: closed.to_plan, decision, reason: reason ? `Reason: ${reason}` : '' },
      });
      const tenant = await trx('tenants').where('id', found.tenant_id).first<{ name: string }>('name');
      return { ...closed, tenant_name: tenant.name };
    });
    if (decision === 'approved') await this.deps.invalidate(found.tenant_id);
    return decided;
  }
}

/**
 * The tenant's plan. `lock` takes the tenant row first in every transaction that changes its
 * plan or its requests, so they run one at a time and always lock in the same order; `no key
 * update` leaves the row free for foreign-key checks (jobs, audit rows being inserted meanwhile).
 */
async function currentPlanCode(trx: Knex.Transaction, tenantId: string, options: { lock?: boolean } = {}): Promise<string> {
  const query = trx('tenants').where('id', tenantId);
  if (options.lock) void query.forNoKeyUpdate();
  const row = await query.first<{ plan_code: string } | undefined>('plan_code');
  if (!row) throw new AppError('not_found', 'No such tenant');
  return row.plan_code;
}

/** The tenant's plan code and latest requests, as one transaction sees them. */
interface StoredState {
  planCode: string;
  recent: PlanRequestRow[];
}

async function readState(trx: Knex.Transaction, tenantId: string): Promise<StoredState> {
  return {
    planCode: await currentPlanCode(trx, tenantId),
    recent: (await trx('plan_requests')
      .where({ tenant_id: tenantId })
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(RECENT_REQUESTS)) as PlanRequestRow[],
  };
}
