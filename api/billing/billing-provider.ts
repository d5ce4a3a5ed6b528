/**
 * Where paid plans are settled. A `BillingProvider` is asked when a tenant wants a paid plan it
 * may not simply take (an upgrade, or a sign-up asking for one), and told how each request ends.
 * The default, `manual`, leaves every such request pending until an operator approves or rejects
 * it (`/admin/api/plan-requests`, `catalytic admin plan-requests`). A payment provider plugs in
 * here: it may answer `active` once payment is captured, or keep the request pending until its
 * own confirmation arrives and approve it through the same decision path.
 */
import type { Config } from '../../shared/config.ts';
import type { Plan } from '../../shared/plans.ts';
import type { PlanRequestRow } from './plan-request-store.ts';

/** What an upgrade request became: `active` = the plan applies now; `pending` = it awaits a decision. */
export type UpgradeOutcome = 'active' | 'pending';

export interface UpgradeRequest {
  tenantId: string;
  from: Plan;
  to: Plan;
  /** The user asking, when a user (not an API key without one) asks. */
  requestedBy: string | null;
}

export interface BillingProvider {
  /** The BILLING_PROVIDER value that selects it. */
  readonly name: string;
  /** A tenant asks for a paid plan it may not take by itself. Runs before anything is written. */
  requestUpgrade(request: UpgradeRequest): Promise<UpgradeOutcome>;
  /** A pending request was approved (the plan changes in the same transaction). */
  approved(request: PlanRequestRow): Promise<void>;
  /** A pending request was rejected by an operator. */
  rejected(request: PlanRequestRow): Promise<void>;
  /** A pending request was withdrawn by the tenant, or replaced by a newer one. */
  cancelled(request: PlanRequestRow): Promise<void>;
}

/** Every upgrade waits for an operator's decision; nothing is charged here. */
export class ManualApproval implements BillingProvider {
  readonly name = 'manual';

  requestUpgrade(): Promise<UpgradeOutcome> {
    return Promise.resolve('pending');
  }

  approved(): Promise<void> {
    return Promise.resolve();
  }

  rejected(): Promise<void> {
    return Promise.resolve();
  }

  cancelled(): Promise<void> {
    return Promise.resolve();
  }
}

/** The provider BILLING_PROVIDER names. */
export function createBillingProvider(config: Pick<Config, 'BILLING_PROVIDER'>): BillingProvider {
  switch (config.BILLING_PROVIDER) {
    case 'manual':
      return new ManualApproval();
  }
}
