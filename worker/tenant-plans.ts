/**
 * The plan of each tenant the fetcher visits (weight, concurrency cap, runtime limit), read from
 * PostgreSQL for many tenants at once and reused for a few seconds: a subscription change reaches
 * the fetcher within `ttlMs`.
 */
import type { Db } from '../shared/db.ts';
import type { Plan } from '../shared/plans.ts';

export type TenantPlan = Pick<Plan, 'code' | 'weight' | 'max_concurrent_jobs' | 'max_job_runtime_ms'>;

const UNKNOWN: TenantPlan = { code: 'free', weight: 1, max_concurrent_jobs: 1, max_job_runtime_ms: 60_000 };

export class TenantPlans {
  private readonly cache = new Map<string, { plan: TenantPlan; at: number }>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 5000,
  ) {}

  /** Plans of these tenants; a tenant that no longer exists gets the most restrictive plan. */
  async get(tenantIds: readonly string[]): Promise<Map<string, TenantPlan>> {
    const now = Date.now();
    const plans = new Map<string, TenantPlan>();
    const missing: string[] = [];
    for (const id of tenantIds) {
      const hit = this.cache.get(id);
      if (hit && now - hit.at < this.ttlMs) plans.set(id, hit.plan);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const rows = await this.db('tenants as t')
        .join('plans as p', 'p.code', 't.plan_code')
        .whereIn('t.id', missing)
        .select<Array<TenantPlan & { tenant_id: string }>>('t.id as tenant_id', 'p.code', 'p.weight', 'p.max_concurrent_jobs', 'p.max_job_runtime_ms');
      if (this.cache.size > 100_000) this.cache.clear();
      for (const row of rows) {
        const { tenant_id, ...plan } = row;
        this.cache.set(tenant_id, { plan, at: now });
        plans.set(tenant_id, plan);
      }
      for (const id of missing) if (!plans.has(id)) plans.set(id, UNKNOWN);
    }
    return plans;
  }

  async one(tenantId: string): Promise<TenantPlan> {
    return (await this.get([tenantId])).get(tenantId) ?? UNKNOWN;
  }
}
