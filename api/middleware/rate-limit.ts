/**
 * Rate limits, counted in Redis with rate-limiter-flexible so every API replica shares them:
 * - per tenant: the plan's `requests_per_minute`, across all of the tenant's users and keys;
 * - per credential (user token or API key): a burst cap per second, so one runaway script cannot
 *   spend its whole tenant's minute at once;
 * - per client IP on sign-in and sign-up (brute force, mass sign-up).
 * Responses carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds); a 429
 * adds `Retry-After` and names the limit. If Redis fails, each process falls back to counting in
 * memory rather than refusing or letting everything through.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Principal } from '../../shared/auth/principal.ts';
import { AppError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RedisClient } from '../../shared/redis.ts';
import type { PlanCache } from '../auth/plan-cache.ts';
import type { ApiContext, ApiMiddleware } from '../state.ts';

export interface RateLimitOptions {
  redis: RedisClient;
  /** Key prefix (REDIS_PREFIX); limiter keys live under `<prefix>:rl:`. */
  prefix: string;
  plans: PlanCache;
  logger: Logger;
  /** Sign-in attempts per client IP per 5 minutes. @defaultValue 5 */
  loginPer5Min: number;
  /** Sign-ups per client IP per hour. @defaultValue 3 */
  registerPerHour: number;
  /** Requests per credential per second. @defaultValue 100 */
  credentialPerSecond: number;
}

/** Which limit a 429 is about (the problem's `limit` member). */
export type LimitName =
  | 'requests_per_minute'
  | 'credential_requests_per_second'
  | 'login_attempts_per_ip'
  | 'registrations_per_ip'
  | 'unauthenticated_requests_per_ip'
  | 'password_resets_per_ip'
  | 'password_resets_per_address'
  | 'invitations_per_day';

/** Sign-in or sign-up attempts of any outcome allowed per counted one (failed sign-in, sign-up made). */
const ATTEMPTS_PER_COUNTED = 10;

export interface Window {
  points: number;
  durationS: number;
}

function headersFor(window: Window, res: RateLimiterRes): Record<string, string> {
  return {
    'RateLimit-Limit': String(window.points),
    'RateLimit-Remaining': String(Math.max(0, res.remainingPoints)),
    'RateLimit-Reset': String(Math.max(0, Math.ceil(res.msBeforeNext / 1000))),
    'RateLimit-Policy': `${window.points};w=${window.durationS}`,
  };
}

/** "42 seconds", "5 minutes": when a refused client may try again. */
export function waitPhrase(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 120) return `${s} second${s === 1 ? '' : 's'}`;
  return `${Math.ceil(s / 60)} minutes`;
}

function setHeaders(ctx: ApiContext, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
}

export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterRedis>();

  constructor(private readonly options: RateLimitOptions) {}

  /** One limiter per name and window; limiters of one name share their Redis counters. */
  private limiter(name: string, window: Window): RateLimiterRedis {
    const id = `${name}/${window.points}/${window.durationS}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.options.redis,
        keyPrefix: `${this.options.prefix}:rl:${name}`,
        points: window.points,
        duration: window.durationS,
        // While Redis is away, count in memory at once instead of waiting on each request.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points: window.points, duration: window.durationS }),
      });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }

  /** Counts one request; returns the response headers, or throws 429 when over the limit. */
  private async consume(name: string, key: string, window: Window, limit: LimitName, detail: string): Promise<Record<string, string>> {
    try {
      return headersFor(window, await this.limiter(name, window).consume(key));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        // Neither Redis nor the in-memory fallback answered: let the request through.
        this.options.logger.warn({ err: rejection, limit }, 'rate limit could not be checked');
        return {};
      }
      const headers = headersFor(window, rejection);
      throw new AppError('rate_limited', `${detail}; try again in ${waitPhrase(rejection.msBeforeNext)}`, {
        headers: { ...headers, 'Retry-After': String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))) },
        extra: { limit, limit_value: window.points, window_s: window.durationS, retry_after_s: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) },
      });
    }
  }

  /** Counts one event of `name` for `key`; throws 429 (with its headers) when over the window. */
  async hit(name: string, key: string, window: Window, limit: LimitName, detail: string): Promise<void> {
    await this.consume(name, key, window, limit, detail);
  }

  /**
   * Counts one event of `name` for `key` and says whether it is within the window, without
   * throwing: for limits whose refusal must not show in the answer (per account, where a 429
   * would tell that the account exists).
   */
  async within(name: string, key: string, window: Window): Promise<boolean> {
    try {
      await this.limiter(name, window).consume(key);
      return true;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return false;
      this.options.logger.warn({ err: rejection, limit: name }, 'rate limit could not be checked');
      return true;
    }
  }

  /**
   * Middleware limiting a public route per client IP (`ctx.ip`; X-Forwarded-For only with
   * TRUST_PROXY). Only what deserves counting is kept: failed sign-ins (a successful one gives its
   * point back) and sign-ups that created a tenant (a refused one gives its point back). Refused
   * sign-ups still count toward a looser cap on attempts, so bad input cannot be sent without end.
   */
  perIp(route: 'login' | 'register'): ApiMiddleware {
    const window: Window =
      route === 'login'
        ? { points: this.options.loginPer5Min, durationS: 5 * 60 }
        : { points: this.options.registerPerHour, durationS: 60 * 60 };
    const attempts: Window = { points: window.points * ATTEMPTS_PER_COUNTED, durationS: window.durationS };
    const limit: LimitName = route === 'login' ? 'login_attempts_per_ip' : 'registrations_per_ip';
    const what = route === 'login' ? 'failed sign-ins' : 'sign-ups';
    const counts = (status: number) => (route === 'login' ? status === 401 : status < 400);
    return async (ctx, next) => {
      const ip = ctx.ip || 'unknown';
      await this.consume(`ip:${route}:attempts`, ip, attempts, limit, `Too many ${route === 'login' ? 'sign-in' : 'sign-up'} attempts from this address`);
      const headers = await this.consume(`ip:${route}`, ip, window, limit, `Too many ${what} from this address`);
      setHeaders(ctx, headers);
      // Errors become problem documents further out, so a thrown error's status is the outcome.
      let status = 500;
      try {
        await next();
        status = ctx.status;
      } catch (err) {
        status = (err as { status?: number }).status ?? 500;
        throw err;
      } finally {
        if (!counts(status)) {
          this.limiter(`ip:${route}`, window)
            .reward(ip, 1)
            .catch((err: unknown) => this.options.logger.debug({ err }, 'could not return a rate-limit point'));
        }
      }
    };
  }

  /**
   * Checks the tenant's per-minute plan limit and the credential's burst cap for an
   * authenticated request (a `RequestGuard`). Both counters are sent at once, so they cost one
   * round trip to Redis rather than two; a request the burst cap refuses gives its point back to
   * the tenant's minute (the tenant's limit counts only requests that get past the burst cap).
   */
  readonly guard = async (ctx: ApiContext, principal: Principal): Promise<void> => {
    const plan = await this.options.plans.get(principal.planCode);
    const credential = principal.apiKeyId ? `key:${principal.apiKeyId}` : `user:${principal.userId ?? 'none'}`;
    const tenantWindow: Window = { points: plan.requests_per_minute, durationS: 60 };
    const [burst, tenant] = await Promise.allSettled([
      this.consume(
        'credential',
        credential,
        { points: this.options.credentialPerSecond, durationS: 1 },
        'credential_requests_per_second',
        `This credential may make at most ${this.options.credentialPerSecond} requests per second`,
      ),
      plan.requests_per_minute < 0
        ? Promise.resolve(undefined)
        : this.consume(
            'tenant',
            principal.tenantId,
            tenantWindow,
            'requests_per_minute',
            `The ${plan.name} plan allows ${plan.requests_per_minute} requests per minute`,
          ),
    ]);
    if (burst.status === 'rejected') {
      if (tenant.status === 'fulfilled' && tenant.value !== undefined) {
        this.limiter('tenant', tenantWindow)
          .reward(principal.tenantId, 1)
          .catch((err: unknown) => this.options.logger.debug({ err }, 'could not return a rate-limit point'));
      }
      throw burst.reason;
    }
    if (tenant.status === 'rejected') throw tenant.reason;
    if (tenant.value) setHeaders(ctx, tenant.value);
  };
}
