/**
 * What a delivery attempt leads to, decided from what the send step learnt and the state read
 * under lock — no database, no clock, no randomness of its own — so every branch is testable
 * without an endpoint. The sender reads the state, asks here, and writes what it is told.
 *
 * A 2xx succeeds (and clears the endpoint's failing streak); 410 Gone disables the endpoint;
 * anything else retries on the schedule, or fails once the schedule is used up, the delivery
 * was already finished (a manual attempt does not restart retries) or the endpoint is disabled —
 * by now failing for `disableAfterMs`, or before.
 */
import { nextRetryDelay } from './retry-schedule.ts';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** What an attempt led to. */
export type AttemptOutcome = 'succeeded' | 'retrying' | 'failed' | 'endpoint_disabled';

/** How the endpoint's answer reads before anything else is known. */
export type ResponseVerdict = 'success' | 'gone' | 'failure';

/** The endpoint's row as the failure path reads it (locked), or null when it is gone. */
export interface EndpointHealth {
  enabled: boolean;
  failingSince: Date | null;
}

/** What the sender writes to the endpoint's row. */
export type EndpointChange =
  | { kind: 'none' }
  /** A success ends a failing streak. */
  | { kind: 'recovered' }
  /** The first failure of a streak starts it. */
  | { kind: 'failing' }
  | { kind: 'disable'; reason: string };

export interface AttemptFacts {
  /** The answer's status, or null when none came (timeout, refused address, network error). */
  statusCode: number | null;
  /** Why the send step failed, when it did. */
  error: string | null;
  /** The endpoint's `Retry-After`, in ms. */
  retryAfterMs: number | undefined;
  /** When the attempt started. */
  at: Date;
  /** Attempts made, this one included. */
  attempts: number;
  /** The delivery's status when the attempt is recorded. */
  deliveryStatus: DeliveryStatus;
  /** The endpoint, read only for a {@link ResponseVerdict} of `failure`. */
  endpoint?: EndpointHealth | null;
  /**
   * The current time, in ms since the epoch, once the attempt's outcome is known: the retry delay
   * runs from here, so a slow or timed-out attempt still leaves its receiver the whole wait.
   */
  now: number;
}

export interface DecisionSettings {
  /** `WEBHOOK_RETRY_SCHEDULE_MS`. */
  retrySchedule: readonly number[];
  /** `WEBHOOK_DISABLE_AFTER_MS`. */
  disableAfterMs: number;
  /** Jitter source for the retry delay. */
  random?: () => number;
}

export interface AttemptDecision {
  outcome: AttemptOutcome;
  status: DeliveryStatus;
  /** The error recorded on the delivery. */
  error: string | null;
  nextAttemptAt: Date | null;
  endpoint: EndpointChange;
}

/** How an answer's status reads: a 2xx succeeds, 410 means the endpoint is gone, the rest failed. */
export function responseVerdict(statusCode: number | null): ResponseVerdict {
  if (statusCode !== null && statusCode >= 200 && statusCode < 300) return 'success';
  if (statusCode === 410) return 'gone';
  return 'failure';
}

/** The outcome of an attempt and the writes it calls for. */
export function decideAttempt(facts: AttemptFacts, settings: DecisionSettings): AttemptDecision {
  const verdict = responseVerdict(facts.statusCode);
  if (verdict === 'success') {
    return { outcome: 'succeeded', status: 'succeeded', error: facts.error, nextAttemptAt: null, endpoint: { kind: 'recovered' } };
  }
  if (verdict === 'gone') {
    return {
      outcome: 'endpoint_disabled',
      status: 'failed',
      error: 'The endpoint answered 410 Gone; it is now disabled',
      nextAttemptAt: null,
      endpoint: { kind: 'disable', reason: 'The endpoint answered 410 Gone' },
    };
  }
  const error = facts.error ?? `The endpoint answered HTTP ${facts.statusCode}`;
  const endpoint = endpointAfterFailure(facts.endpoint ?? null, facts.now, settings.disableAfterMs);
  const disabled = endpoint.disabled;
  // A manual attempt of a finished delivery does not restart its retries.
  const delay =
    disabled || facts.deliveryStatus !== 'pending'
      ? undefined
      : nextRetryDelay(facts.attempts, settings.retrySchedule, { retryAfterMs: facts.retryAfterMs, random: settings.random });
  if (disabled) return { outcome: 'endpoint_disabled', status: 'failed', error, nextAttemptAt: null, endpoint: endpoint.change };
  if (delay === undefined) return { outcome: 'failed', status: 'failed', error, nextAttemptAt: null, endpoint: endpoint.change };
  return { outcome: 'retrying', status: 'pending', error, nextAttemptAt: new Date(facts.now + delay), endpoint: endpoint.change };
}

/** A failure's effect on its endpoint: whether it is (now or already) disabled, and what to write. */
function endpointAfterFailure(
  endpoint: EndpointHealth | null,
  now: number,
  disableAfterMs: number,
): { disabled: boolean; change: EndpointChange } {
  if (!endpoint || !endpoint.enabled) return { disabled: true, change: { kind: 'none' } };
  if (!endpoint.failingSince) return { disabled: false, change: { kind: 'failing' } };
  if (now - endpoint.failingSince.getTime() < disableAfterMs) return { disabled: false, change: { kind: 'none' } };
  return { disabled: true, change: { kind: 'disable', reason: `Every attempt failed for ${formatDuration(disableAfterMs)}` } };
}

/** A duration as people say it: days past 48 hours, hours past one, else seconds. */
export function formatDuration(ms: number): string {
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? '' : 's'}`;
  const hours = ms / 3_600_000;
  if (hours >= 48) return unit(Math.round(hours / 24), 'day');
  if (hours >= 1) return unit(Math.round(hours), 'hour');
  return unit(Math.round(ms / 1000), 'second');
}
