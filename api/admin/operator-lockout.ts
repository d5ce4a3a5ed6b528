/**
 * Slows down guessing of operator credentials: after `attempts` wrong credentials from one client
 * address within `windowS`, that address is refused (429, even with the right credentials) for
 * `blockS`. Requests without credentials do not count — a browser sends one before it prompts.
 * Counted in Redis so every API replica shares the count; in memory while Redis is away.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../../shared/errors.ts';
import type { RedisClient } from '../../shared/redis.ts';
import { MINUTE, SECOND } from '../../shared/units.ts';

export interface OperatorLockoutOptions {
  /** @defaultValue 10 */
  attempts?: number;
  /** @defaultValue 300 (5 minutes) */
  windowS?: number;
  /** @defaultValue 900 (15 minutes) */
  blockS?: number;
}

export class OperatorLockout {
  private readonly limiter: RateLimiterRedis;
  private readonly attempts: number;

  constructor(redis: RedisClient, prefix: string, options: OperatorLockoutOptions = {}) {
    this.attempts = options.attempts ?? 10;
    const duration = options.windowS ?? (5 * MINUTE) / SECOND;
    const blockDuration = options.blockS ?? (15 * MINUTE) / SECOND;
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:rl:operator-auth`,
      points: this.attempts,
      duration,
      blockDuration,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ points: this.attempts, duration, blockDuration }),
    });
  }

  private refuse(res: RateLimiterRes): never {
    const retryAfter = String(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
    throw new AppError('rate_limited', 'Too many wrong operator credentials from this address', {
      headers: { 'Retry-After': retryAfter },
    });
  }

  /** Throws 429 while `address` is locked out. */
  async assertAllowed(address: string): Promise<void> {
    const res = await this.limiter.get(address).catch(() => null);
    if (res && res.consumedPoints > this.attempts) this.refuse(res);
  }

  /** Counts a wrong credential; throws 429 when that one locks the address out. */
  async recordFailure(address: string): Promise<void> {
    try {
      await this.limiter.consume(address);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) this.refuse(rejection);
      // Neither Redis nor the fallback answered: the 401 that follows still refuses the request.
    }
  }
}
