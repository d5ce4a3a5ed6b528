/**
 * Bounds the webhook attempts a tenant asks for through the API (`test`, `redeliver`).
 *
 * These are made during the request, so the answer can say what the endpoint did (the CLI's
 * `webhooks test` exits non-zero when it failed). They were chosen over a queued attempt because
 * an attempt no longer costs the API a database connection (see DeliverySender): what is left is a
 * socket and a timer. This class bounds those per tenant in each API process (a third attempt of
 * one tenant while two are in flight gets 429 with Retry-After), and the API's sender gives each
 * attempt at most WEBHOOK_TEST_TIMEOUT_MS, DNS included. A tenant can therefore keep at most
 * WEBHOOK_TEST_CONCURRENCY_PER_TENANT sockets per API process busy, for seconds, and nothing else.
 */
import { AppError } from '../../shared/errors.ts';

export class ManualAttemptLimiter {
  private readonly inFlight = new Map<string, number>();

  constructor(
    /** Attempts one tenant may have in flight in this process. */
    private readonly perTenant: number,
    /** Retry-After for a refused attempt: when one in flight will surely be over. */
    private readonly retryAfterS: number,
  ) {}

  /** Runs `fn` as one of the tenant's attempts in flight, or throws 429 when it has too many. */
  async run<T>(tenantId: string, fn: () => Promise<T>): Promise<T> {
    const current = this.inFlight.get(tenantId) ?? 0;
    if (current >= this.perTenant) {
      throw new AppError('rate_limited', `At most ${this.perTenant} test or redeliver attempts of a tenant may be in flight at once`, {
        headers: { 'Retry-After': String(this.retryAfterS) },
        extra: { limit: 'webhook_attempts_in_flight', limit_value: this.perTenant, retry_after_s: this.retryAfterS },
      });
    }
    this.inFlight.set(tenantId, current + 1);
    try {
      return await fn();
    } finally {
      const left = (this.inFlight.get(tenantId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(tenantId, left);
      else this.inFlight.delete(tenantId);
    }
  }

  /** Attempts in flight for a tenant (for tests and metrics). */
  count(tenantId: string): number {
    return this.inFlight.get(tenantId) ?? 0;
  }
}
