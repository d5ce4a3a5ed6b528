/**
 * When a failed delivery is tried again: the configured delay for the attempt number, with ±20%
 * jitter so endpoints that failed together are not retried in lockstep, and never sooner than
 * the endpoint's own `Retry-After`.
 */

/** Fraction of each delay added or removed at random. */
export const RETRY_JITTER = 0.2;

/**
 * The delay before the next attempt after `attemptsMade` attempts, or undefined when the schedule
 * is used up. `schedule[i]` is the wait before attempt i + 2 (the first attempt is immediate).
 */
export function nextRetryDelay(
  attemptsMade: number,
  schedule: readonly number[],
  options: { retryAfterMs?: number; random?: () => number } = {},
): number | undefined {
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return undefined;
  const random = options.random ?? Math.random;
  const jittered = Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random()));
  // Honour Retry-After, but no longer than the schedule's longest wait: a misconfigured header
  // must not park a delivery for ever.
  const longest = Math.max(...schedule);
  const retryAfter = Math.min(options.retryAfterMs ?? 0, longest);
  return Math.max(jittered, retryAfter);
}

/** Parses a `Retry-After` header (seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
