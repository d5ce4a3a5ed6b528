/**
 * A cap on requests without credentials from an address that keeps failing authentication: once
 * `perSecond` requests from one address were answered 401 within a second, its further requests
 * without an `Authorization` header get 429 (with `Retry-After`) for the rest of that second,
 * before anything else is done for them — no route, no database, no Redis, no body (a refusal
 * before the body arrived closes the connection, see problem-errors.ts). A flood of anonymous
 * uploads then costs this process a header parse per request, and a client that honours
 * `Retry-After` backs off instead of looping on 401s.
 *
 * Requests that carry credentials always pass, so a tenant behind the same address (NAT, proxy)
 * is not refused for a neighbour. Counted in memory per process: what it protects is this
 * process's event loop, and it costs no round trip.
 */
import { AppError } from '../../shared/errors.ts';
import type { ApiMiddleware } from '../state.ts';
import type { LimitName } from './rate-limit.ts';

const WINDOW_MS = 1000;
const LIMIT: LimitName = 'unauthenticated_requests_per_ip';

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
    if (ctx.get('authorization') !== '') return next();
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
