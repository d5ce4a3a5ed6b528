/**
 * When to retry a request and how long to wait: 429 and 503 are retried, honouring the server's
 * `Retry-After` (seconds or an HTTP date) when it gives one, otherwise exponential backoff with
 * jitter (so many clients refused at once do not come back at once). A wait longer than `maxDelayMs` is not waited out: the error goes to the caller
 * (a monthly quota that resets next week is not worth blocking a script for).
 */

/** Retry behaviour of a client. */
export interface RetryOptions {
  /**
   * Retries after the first attempt (0 disables retrying).
   * @defaultValue 3
   */
  retries?: number;
  /**
   * First backoff delay when the server gives no Retry-After; doubles each retry.
   * @defaultValue 500
   */
  baseDelayMs?: number;
  /**
   * Longest single wait, Retry-After included; a longer Retry-After is not waited out.
   * @defaultValue 30000
   */
  maxDelayMs?: number;
}

export const RETRY_DEFAULTS: Required<RetryOptions> = { retries: 3, baseDelayMs: 500, maxDelayMs: 30_000 };

/** HTTP statuses worth another attempt: the request was not processed and may succeed later. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** Resolves and checks options once, naming the field at fault. */
export function resolveRetryOptions(options: RetryOptions = {}): Required<RetryOptions> {
  const resolved = { ...RETRY_DEFAULTS, ...stripUndefined(options) };
  if (!Number.isInteger(resolved.retries) || resolved.retries < 0) {
    throw new TypeError('options.retry.retries must be a non-negative integer');
  }
  if (!(resolved.baseDelayMs >= 0)) throw new TypeError('options.retry.baseDelayMs must be a non-negative number');
  if (!(resolved.maxDelayMs >= 0)) throw new TypeError('options.retry.maxDelayMs must be a non-negative number');
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Milliseconds a `Retry-After` header asks to wait: delta-seconds or an HTTP date (RFC 9110
 * §10.2.3). Undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Every HTTP date format starts with the day's name; anything else is not a date here.
  if (!/^[A-Za-z]{3}/.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * The wait before retry number `attempt` (1-based), or undefined when the request should not be
 * retried (attempts used up, or the server asks for longer than `maxDelayMs`).
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  options: Required<RetryOptions>,
  random: () => number = Math.random,
): number | undefined {
  if (attempt > options.retries) return undefined;
  if (retryAfterMs !== undefined) return retryAfterMs <= options.maxDelayMs ? retryAfterMs : undefined;
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
