/**
 * Plan limits by plan code, cached for a few seconds. Only the plans' own rows are cached (they
 * are reference data that changes with a deploy); which plan a tenant is on is read with every
 * request's credentials, so a subscription change applies to the very next request.
 */
import type { Db } from '../../shared/db.ts';
import { listPlans, type Plan } from '../../shared/plans.ts';
import { SECOND } from '../../shared/units.ts';

/** How long plan rows are reused. @defaultValue 10 s */
export const PLAN_CACHE_TTL_MS = 10 * SECOND;

export class PlanCache {
  private plans: Promise<Map<string, Plan>> | undefined;
  private loadedAt = 0;

  constructor(
    private readonly db: Db,
    private readonly ttlMs: number = PLAN_CACHE_TTL_MS,
  ) {}

  private load(): Promise<Map<string, Plan>> {
    if (!this.plans || Date.now() - this.loadedAt > this.ttlMs) {
      this.loadedAt = Date.now();
      const loading = listPlans(this.db).then((rows) => new Map(rows.map((p) => [p.code, p] as const)));
      // A failed load is not kept: the next request tries again.
      loading.catch(() => {
        if (this.plans === loading) this.plans = undefined;
      });
      this.plans = loading;
    }
    return this.plans;
  }

  /** Every plan, cheapest first. */
  async all(): Promise<Plan[]> {
    return [...(await this.load()).values()];
  }

  /** The plan with this code; throws when there is none (a tenant's plan always exists: foreign key). */
  async get(code: string): Promise<Plan> {
    const plan = (await this.load()).get(code);
    if (!plan) throw new Error(`No plan ${code}`);
    return plan;
  }
}
