/**
 * A cap on requests without credentials from an address that keeps failing authentication: past
 * `perSecond` 401s within a second, its requests without an `Authorization` header get 429 (with
 * `Retry-After`) before anything else is done for them. Sign-in and sign-up (`/auth/…`,
 * `/api/tenants/register`) are left to their own per-address limits, so a flood of bad tokens
 * does not stop the same address signing in. Counted in memory per process.
 * See docs/plans-and-limits.md › Rate limits and quotas.
 */
import { AppError } from '../../shared/errors.ts';
import type { ApiMiddleware } from '../state.ts';
import type { LimitName } from './rate-limit.ts';

const WINDOW_MS = 1000;
const LIMIT: LimitName = 'unauthenticated_requests_per_ip';

/** Routes taken without credentials by design, each with its own per-address limit. */
const SIGN_IN_AND_UP = /^\/(auth\/|api\/tenants\/register(\/|$))/;

const statusOf = (err: unknown): number | undefined => (err as { status?: number } | null)?.status;

export function capUnauthenticatedRequests(perSecond: number, now: () => number = Date.now): ApiMiddleware {
  let windowStartedAt = 0;
  // Addresses with failures in the current window; dropped whole when the window turns.
  let failures = new Map<string, number>();
  const current = (): Map<string, number> => {
    const t = now();
    if (t - windowStartedAt >= WINDOW_MS) {
      windowStartedAt = t;
      failures = new Map();
    }
    return failures;
  };
  const countFailure = (ip: string) => {
    const counts = current();
    counts.set(ip, (counts.get(ip) ?? 0) + 1);
  };

  return async (ctx, next) => {
    if (ctx.get('authorization') !== '' || SIGN_IN_AND_UP.test(ctx.path)) return next();
    const ip = ctx.ip || 'unknown';
    if ((current().get(ip) ?? 0) >= perSecond) {
      const retryAfterS = Math.max(1, Math.ceil((windowStartedAt + WINDOW_MS - now()) / 1000));
      throw new AppError('rate_limited', `Too many requests without valid credentials from this address; try again in ${retryAfterS} second${retryAfterS === 1 ? '' : 's'}`, {
        headers: { 'Retry-After': String(retryAfterS) },
        extra: { limit: LIMIT, limit_value: perSecond, window_s: WINDOW_MS / 1000, retry_after_s: retryAfterS },
      });
    }
    try {
      await next();
    } catch (err) {
      if (statusOf(err) === 401) countFailure(ip);
      throw err;
    }
    if (ctx.status === 401) countFailure(ip);
  };
}
