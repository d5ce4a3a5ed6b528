/**
 * Rate limits, counted in Redis so every API replica shares them (an authenticated request's two
 * counters in one Lua call, the others with rate-limiter-flexible):
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
import { RedisScript } from '../../shared/queues/redis-script.ts';
import type { PlanCache } from '../auth/plan-cache.ts';
import type { ApiContext, ApiMiddleware } from '../state.ts';

export interface RateLimitOptions {
  /** The connection of the per-IP limits and of the guard's fallback limiters (rate-limiter-flexible). */
  redis: RedisClient;
  /**
   * The connection of the guard's GUARD script: of its own, writing a turn's commands at once
   * (identity.ts), so the guards of one event-loop turn share one round trip. Their order against
   * other callers does not matter: each call is one atomic script on counters no other caller writes.
   */
  guardRedis: RedisClient;
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

/**
 * The guard's two counters in one call (fixed windows, as rate-limiter-flexible keeps them).
 * KEYS[1] the credential's counter, KEYS[2] the tenant's (absent: no per-minute limit). ARGV: the
 * credential's points and window (ms), the tenant's window (ms). A request past the credential's
 * cap is not counted in the tenant's minute. Returns {credential count, its ms left, tenant count,
 * its ms left}, the tenant's as -1 when it was not counted.
 */
const GUARD = new RedisScript(
  'rate-limit-guard',
  `local function hit(key, window)
  local n = redis.call('incr', key)
  local left = redis.call('pttl', key)
  if n == 1 or left < 0 then
    redis.call('pexpire', key, window)
    left = tonumber(window)
  end
  return n, left
end
local cn, cleft = hit(KEYS[1], ARGV[2])
if cn > tonumber(ARGV[1]) or not KEYS[2] then return {cn, cleft, -1, -1} end
local tn, tleft = hit(KEYS[2], ARGV[3])
return {cn, cleft, tn, tleft}`,
);

/** The GUARD script's answer: credential count and ms left, tenant count and ms left. */
type GuardCounts = [number, number, number, number];

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

/** The 429 of a request over `window`. */
function refusal(window: Window, res: RateLimiterRes, limit: LimitName, detail: string): AppError {
  const retryAfterS = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppError('rate_limited', `${detail}; try again in ${waitPhrase(res.msBeforeNext)}`, {
    headers: { ...headersFor(window, res), 'Retry-After': String(retryAfterS) },
    extra: { limit, limit_value: window.points, window_s: window.durationS, retry_after_s: retryAfterS },
  });
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
      throw refusal(window, rejection, limit, detail);
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
   * authenticated request (a `RequestGuard`): both counters in ONE Redis call (the GUARD script;
   * the keys share the tenant's hash tag, so it runs on a Redis Cluster too), sent on the
   * per-request `guardRedis` with the other guards of the same event-loop turn. A request the burst
   * cap refuses is not counted in the tenant's minute (the tenant's limit counts only requests
   * that get past the burst cap). While Redis is not ready, each process counts in memory.
   */
  readonly guard = async (ctx: ApiContext, principal: Principal): Promise<void> => {
    const plan = await this.options.plans.get(principal.planCode);
    const credential = principal.apiKeyId ? `key:${principal.apiKeyId}` : `user:${principal.userId ?? 'none'}`;
    const burstWindow: Window = { points: this.options.credentialPerSecond, durationS: 1 };
    const tenantWindow: Window | undefined = plan.requests_per_minute < 0 ? undefined : { points: plan.requests_per_minute, durationS: 60 };
    const burstDetail = `This credential may make at most ${this.options.credentialPerSecond} requests per second`;
    const tenantDetail = `The ${plan.name} plan allows ${plan.requests_per_minute} requests per minute`;
    const counted = await this.countGuard(principal.tenantId, credential, burstWindow, tenantWindow);
    if (!counted) return this.guardInMemory(ctx, principal, credential, burstWindow, tenantWindow, burstDetail, tenantDetail);
    const [burstCount, burstLeftMs, tenantCount, tenantLeftMs] = counted;
    if (burstCount > burstWindow.points) {
      throw refusal(burstWindow, new RateLimiterRes(0, burstLeftMs, burstCount), 'credential_requests_per_second', burstDetail);
    }
    if (!tenantWindow) return;
    const res = new RateLimiterRes(Math.max(0, tenantWindow.points - tenantCount), tenantLeftMs, tenantCount);
    if (tenantCount > tenantWindow.points) throw refusal(tenantWindow, res, 'requests_per_minute', tenantDetail);
    setHeaders(ctx, headersFor(tenantWindow, res));
  };

  /** The GUARD script's answer, or undefined when Redis is not ready or did not answer. */
  private async countGuard(tenantId: string, credential: string, burst: Window, tenant: Window | undefined): Promise<GuardCounts | undefined> {
    const { guardRedis: redis, prefix, logger } = this.options;
    if (redis.status !== 'ready') return undefined;
    const tag = `${prefix}:rl:{${tenantId}}`;
    const keys = [`${tag}:credential:${credential}`, ...(tenant ? [`${tag}:tenant`] : [])];
    try {
      const reply = (await GUARD.run(redis, keys, [burst.points, burst.durationS * 1000, (tenant?.durationS ?? 0) * 1000])) as number[];
      const [burstCount, burstLeftMs, tenantCount, tenantLeftMs] = reply.map(Number) as GuardCounts;
      return [burstCount, burstLeftMs, tenantCount, tenantLeftMs];
    } catch (err) {
      logger.warn({ err }, 'rate limits could not be counted in Redis; counting in memory');
      return undefined;
    }
  }

  /** The guard through rate-limiter-flexible, which counts in memory while Redis is away. */
  private async guardInMemory(
    ctx: ApiContext,
    principal: Principal,
    credential: string,
    burstWindow: Window,
    tenantWindow: Window | undefined,
    burstDetail: string,
    tenantDetail: string,
  ): Promise<void> {
    const [burst, tenant] = await Promise.allSettled([
      this.consume('credential', credential, burstWindow, 'credential_requests_per_second', burstDetail),
      tenantWindow ? this.consume('tenant', principal.tenantId, tenantWindow, 'requests_per_minute', tenantDetail) : Promise.resolve(undefined),
    ]);
    if (burst.status === 'rejected') {
      if (tenantWindow && tenant.status === 'fulfilled' && tenant.value !== undefined) {
        this.limiter('tenant', tenantWindow)
          .reward(principal.tenantId, 1)
          .catch((err: unknown) => this.options.logger.debug({ err }, 'could not return a rate-limit point'));
      }
      throw burst.reason;
    }
    if (tenant.status === 'rejected') throw tenant.reason;
    if (tenant.value) setHeaders(ctx, tenant.value);
  }

}
