/**
 * Locks an account's sign-in after consecutive wrong passwords, whatever addresses they come from
 * (the per-IP limit alone gives every new address fresh tries at one account).
 *
 * Counted in Redis per email (hashed, so no address appears in a key), shared by every API
 * replica. Each failure restarts the count's expiry; at `maxFailures` the account is locked until
 * the count expires, `lockMs` after the last failure. While locked, attempts are refused with 429
 * before any password is checked and do not extend the lock. A successful sign-in clears the
 * count. Unknown emails are counted exactly like known ones, so the answers never tell whether an
 * account exists. If Redis cannot be reached, sign-in goes on (the per-IP limit still applies).
 */
import { createHash } from 'node:crypto';
import { AppError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RedisClient } from '../../shared/redis.ts';

export interface AccountLockoutOptions {
  redis: RedisClient;
  /** REDIS_PREFIX; counts live under `<prefix>:rl:account:`. */
  prefix: string;
  logger: Logger;
  /** Consecutive failures that lock the account. @defaultValue 10 */
  maxFailures: number;
  /** How long the lock (and a count of failures) lasts after the last failure. @defaultValue 15 min */
  lockMs: number;
}

/** The sign-in email as sign-in compares it. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class AccountLockout {
  constructor(private readonly options: AccountLockoutOptions) {}

  private key(email: string): string {
    const digest = createHash('sha256').update(normaliseEmail(email)).digest('base64url');
    return `${this.options.prefix}:rl:account:${digest}`;
  }

  /** Throws 429 (with Retry-After) while the account of `email` is locked. */
  async assertAllowed(email: string): Promise<void> {
    let failures: number;
    let ttlMs: number;
    try {
      const results = await this.options.redis.multi().get(this.key(email)).pttl(this.key(email)).exec();
      failures = Number(results?.[0]?.[1] ?? 0);
      ttlMs = Number(results?.[1]?.[1] ?? -2);
    } catch (err) {
      this.options.logger.warn({ err }, 'account lockout could not be checked');
      return;
    }
    if (failures < this.options.maxFailures || ttlMs <= 0) return;
    const retryAfterS = Math.max(1, Math.ceil(ttlMs / 1000));
    throw new AppError('rate_limited', 'Too many failed sign-ins for this account; try again later', {
      headers: { 'Retry-After': String(retryAfterS) },
      extra: { limit: 'login_failures_per_account', limit_value: this.options.maxFailures, retry_after_s: retryAfterS },
    });
  }

  /** Counts one wrong password (or unknown email) for `email`. */
  async recordFailure(email: string): Promise<void> {
    const key = this.key(email);
    await this.options.redis
      .multi()
      .incr(key)
      .pexpire(key, this.options.lockMs)
      .exec()
      .catch((err: unknown) => this.options.logger.warn({ err }, 'account lockout could not count a failure'));
  }

  /** A successful sign-in: the count starts again from zero. */
  async recordSuccess(email: string): Promise<void> {
    await this.options.redis.del(this.key(email)).catch((err: unknown) => this.options.logger.warn({ err }, 'account lockout could not be reset'));
  }
}
