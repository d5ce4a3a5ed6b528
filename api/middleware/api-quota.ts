/**
 * Counts every authenticated API call (`api_calls`, per tenant per UTC day) in memory, writes the
 * counts once per USAGE_FLUSH_MS, and refuses requests past the plan's `api_calls_per_month` with 429
 * `quota_exceeded` (account routes stay open). `flush` writes pending counts at once; `close` on
 * shutdown. See docs/plans-and-limits.md › Rate limits and quotas.
 */
import type { Principal } from '../../shared/auth/principal.ts';
import type { Db } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { MINUTE } from '../../shared/units.ts';
import { nextMonthStart, USAGE_METRICS, usageDay } from '../../shared/usage.ts';
import { addUsageMonthTotal, usageMonthTotal } from '../../shared/usage-month-statements.ts';
import type { PlanCache } from '../auth/plan-cache.ts';
import type { ApiContext } from '../state.ts';

/**
 * Routes a tenant needs to get out of a spent quota (see it, upgrade, sign out): counted, never
 * refused.
 */
export const QUOTA_EXEMPT_PATHS: ReadonlySet<string> = new Set(['/api/me', '/api/subscription', '/api/subscription/request', '/api/usage', '/auth/logout']);

/** A month total not refreshed by a flush for this long is read again (in the background). */
const REREAD_AFTER_MS = MINUTE;
/** A tenant with nothing to write and no call for this long is forgotten. */
const FORGET_AFTER_MS = 10 * MINUTE;

export interface ApiCallQuotaOptions {
  /** How often counted calls are written (USAGE_FLUSH_MS). */
  flushMs: number;
  logger: Logger;
}

/** One tenant's calls as this process knows them. */
interface TenantCalls {
  /** `YYYY-MM` of `monthTotal`. */
  month: string;
  /** The month's total in PostgreSQL as last read (undefined: not read yet). */
  monthTotal: number | undefined;
  /** Bumped whenever `monthTotal` is set, so a slower, older read cannot overwrite a newer one. */
  version: number;
  readAt: number;
  reading: Promise<void> | undefined;
  /** Calls handed to a write that has not finished. */
  inFlight: number;
  /** Calls counted and not yet handed to a write, by UTC day. */
  pending: Map<string, number>;
  lastCallAt: number;
}

const monthOf = (day: string): string => day.slice(0, 7);

export class ApiCallQuota {
  private readonly tenants = new Map<string, TenantCalls>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly plans: PlanCache,
    private readonly options: ApiCallQuotaOptions,
  ) {}

  private calls(tenantId: string, day: string): TenantCalls {
    let calls = this.tenants.get(tenantId);
    if (!calls) {
      calls = { month: monthOf(day), monthTotal: undefined, version: 0, readAt: 0, reading: undefined, inFlight: 0, pending: new Map(), lastCallAt: 0 };
      this.tenants.set(tenantId, calls);
    }
    if (calls.month !== monthOf(day)) {
      // A new month: what was read is last month's.
      calls.month = monthOf(day);
      calls.monthTotal = undefined;
      calls.version++;
    }
    return calls;
  }

  /** Reads the month's total (once at a time per tenant). */
  private read(tenantId: string, calls: TenantCalls, day: string): Promise<void> {
    calls.reading ??= (async () => {
      const version = calls.version;
      try {
        const total = await usageMonthTotal(this.db, tenantId, USAGE_METRICS.apiCalls, day);
        if (calls.version === version && calls.month === monthOf(day)) {
          calls.monthTotal = total;
          calls.version++;
          calls.readAt = Date.now();
        }
      } finally {
        calls.reading = undefined;
      }
    })();
    return calls.reading;
  }

  /** This month's calls of a tenant as far as this process knows. */
  private used(calls: TenantCalls): number {
    let pending = 0;
    for (const [day, count] of calls.pending) if (monthOf(day) === calls.month) pending += count;
    return (calls.monthTotal ?? 0) + calls.inFlight + pending;
  }

  /** A `RequestGuard`: counts the call, or refuses it when the month's quota is spent. */
  readonly guard = async (ctx: ApiContext, principal: Principal): Promise<void> => {
    const plan = await this.plans.get(principal.planCode);
    const day = usageDay();
    const calls = this.calls(principal.tenantId, day);
    const limit = plan.api_calls_per_month;
    if (limit >= 0 && !QUOTA_EXEMPT_PATHS.has(ctx.path)) {
      if (calls.monthTotal === undefined) await this.read(principal.tenantId, calls, day);
      else if (Date.now() - calls.readAt > REREAD_AFTER_MS) {
        this.read(principal.tenantId, calls, day).catch((err: unknown) => this.options.logger.warn({ err }, 'could not read API usage'));
      }
      const used = this.used(calls);
      if (used >= limit) {
        const retryAfterS = Math.max(1, Math.ceil((nextMonthStart().getTime() - Date.now()) / 1000));
        throw new AppError('quota_exceeded', `The ${plan.name} plan allows ${limit} API calls per month`, {
          headers: { 'Retry-After': String(retryAfterS) },
          extra: { limit: 'api_calls_per_month', limit_value: limit, used },
        });
      }
    }
    calls.pending.set(day, (calls.pending.get(day) ?? 0) + 1);
    calls.lastCallAt = Date.now();
    this.schedule();
  };

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.flush(), this.options.flushMs);
    // Pending counts are written by `close` on shutdown; the timer alone keeps no process alive.
    this.timer.unref();
  }

  /** Writes the pending calls of one tenant, or of all; resolves once written (or failed). */
  flush(tenantId?: string): Promise<void> {
    // One flush at a time: month totals then arrive in the order they were written.
    const next = this.flushing.then(() => this.flushNow(tenantId));
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async flushNow(only: string | undefined): Promise<void> {
    const writes: Array<Promise<void>> = [];
    const now = Date.now();
    for (const [tenantId, calls] of only === undefined ? this.tenants : [[only, this.tenants.get(only)] as const]) {
      if (!calls) continue;
      if (calls.pending.size === 0) {
        if (only === undefined && calls.inFlight === 0 && !calls.reading && now - calls.lastCallAt > FORGET_AFTER_MS) {
          this.tenants.delete(tenantId);
        }
        continue;
      }
      const batches = [...calls.pending];
      calls.pending.clear();
      for (const [day, count] of batches) writes.push(this.write(tenantId, calls, day, count));
    }
    await Promise.all(writes);
  }

  private async write(tenantId: string, calls: TenantCalls, day: string, count: number): Promise<void> {
    calls.inFlight += count;
    try {
      // One round trip: the day's counter row is locked only while PostgreSQL runs the upsert and commits.
      const total = await addUsageMonthTotal(this.db, tenantId, USAGE_METRICS.apiCalls, count, day);
      calls.inFlight -= count;
      if (monthOf(day) === calls.month) {
        calls.monthTotal = total;
        calls.version++;
        calls.readAt = Date.now();
      }
    } catch (err) {
      calls.inFlight -= count;
      calls.pending.set(day, (calls.pending.get(day) ?? 0) + count);
      this.options.logger.warn({ err, tenantId, calls: count }, 'could not write API usage; kept for the next flush');
    }
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
