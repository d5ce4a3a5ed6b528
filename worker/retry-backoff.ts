/**
 * Delay before retrying a job whose attempt failed for an infrastructure reason: exponential
 * from one second, capped at a minute, with ±20% jitter so retries of many jobs spread out.
 */
import { MINUTE, SECOND } from '../shared/units.ts';

export const RETRY_BASE_MS = SECOND;
export const RETRY_MAX_MS = MINUTE;

/** Delay after the `attempt`-th attempt failed (1-based), in ms. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
