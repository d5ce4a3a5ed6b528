/**
 * Counts every authenticated API call (`api_calls` usage, per tenant per UTC day) and enforces the
 * plan's `api_calls_per_month`: past it, requests get 429 `quota_exceeded` until the next month.
 *
 * One upsert per request returns today's count; the rest of the month (earlier days, which no
 * longer change) is read at most once a minute per tenant and process. A refused call is not
 * counted. The account routes stay open past the quota, so a tenant can always upgrade.
 */
import type { Principal } from '../../shared/auth/principal.ts';
import type { Db } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { MINUTE } from '../../shared/units.ts';
import { monthlyTotals, nextMonthStart, recordUsage, USAGE_METRICS, usageDay } from '../../shared/usage.ts';
import type { PlanCache } from '../auth/plan-cache.ts';
import type { ApiContext } from '../state.ts';

const EARLIER_TTL_MS = MINUTE;

/**
 * Routes a tenant needs to get out of a spent quota (see it, upgrade, sign out): counted, never
 * refused.
 */
export const QUOTA_EXEMPT_PATHS: ReadonlySet<string> = new Set(['/api/me', '/api/subscription', '/api/usage', '/auth/logout']);
const MAX_CACHED_TENANTS = 10_000;

interface Earlier {
  day: string;
  value: number;
  readAt: number;
}

export class ApiCallQuota {
  private readonly earlier = new Map<string, Earlier>();

  constructor(
    private readonly db: Db,
    private readonly plans: PlanCache,
  ) {}

  /** API calls on the days of this month before `day`. */
  private async earlierThisMonth(tenantId: string, day: string): Promise<number> {
    const cached = this.earlier.get(tenantId);
    if (cached && cached.day === day && Date.now() - cached.readAt < EARLIER_TTL_MS) return cached.value;
    const totals = await monthlyTotals(this.db, tenantId, day, { before: true });
    const value = totals[USAGE_METRICS.apiCalls] ?? 0;
    if (this.earlier.size >= MAX_CACHED_TENANTS) this.earlier.clear();
    this.earlier.set(tenantId, { day, value, readAt: Date.now() });
    return value;
  }

  /** A `RequestGuard`: counts the call, or refuses it when the month's quota is spent. */
  readonly guard = async (ctx: ApiContext, principal: Principal): Promise<void> => {
    const plan = await this.plans.get(principal.planCode);
    const day = usageDay();
    // Usage is bookkeeping about the tenant, written on the system connection with the tenant named.
    const today = await recordUsage(this.db, principal.tenantId, USAGE_METRICS.apiCalls, 1, day);
    const limit = plan.api_calls_per_month;
    if (limit < 0 || QUOTA_EXEMPT_PATHS.has(ctx.path)) return;
    const used = (await this.earlierThisMonth(principal.tenantId, day)) + today;
    if (used <= limit) return;
    await recordUsage(this.db, principal.tenantId, USAGE_METRICS.apiCalls, -1, day);
    const retryAfterS = Math.max(1, Math.ceil((nextMonthStart().getTime() - Date.now()) / 1000));
    throw new AppError('quota_exceeded', `The ${plan.name} plan allows ${limit} API calls per month`, {
      headers: { 'Retry-After': String(retryAfterS) },
      extra: { limit: 'api_calls_per_month', limit_value: limit, used: used - 1 },
    });
  };
}
