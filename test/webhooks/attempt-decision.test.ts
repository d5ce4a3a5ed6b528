/**
 * The pure decision of a delivery attempt: every answer (2xx, 410, other statuses, none) against
 * every state the record step can find (a pending or finished delivery, an endpoint healthy,
 * failing for a while, failing long enough, disabled or gone, a schedule with or without room).
 */
import { describe, expect, it } from 'vitest';
import { type AttemptFacts, decideAttempt, type DecisionSettings, formatDuration, responseVerdict } from '../../shared/webhooks/attempt-decision.ts';

const AT = new Date('2026-01-01T00:00:00.000Z');
const HOUR = 3_600_000;
const settings: DecisionSettings = { retrySchedule: [1_000, 10_000, 60_000], disableAfterMs: 24 * HOUR, random: () => 0.5 };
const healthy = { enabled: true, failingSince: null };

function facts(overrides: Partial<AttemptFacts>): AttemptFacts {
  return {
    statusCode: 500,
    error: null,
    retryAfterMs: undefined,
    at: AT,
    attempts: 1,
    deliveryStatus: 'pending',
    endpoint: healthy,
    now: AT.getTime(),
    ...overrides,
  };
}

describe('responseVerdict', () => {
  it.each([
    [200, 'success'],
    [201, 'success'],
    [204, 'success'],
    [299, 'success'],
    [199, 'failure'],
    [300, 'failure'],
    [301, 'failure'],
    [404, 'failure'],
    [410, 'gone'],
    [429, 'failure'],
    [500, 'failure'],
    [503, 'failure'],
    [null, 'failure'],
  ] as const)('reads HTTP %s as %s', (statusCode, verdict) => {
    expect(responseVerdict(statusCode)).toBe(verdict);
  });
});

describe('decideAttempt', () => {
  it('a 2xx succeeds and ends the endpoint’s failing streak, whatever the schedule', () => {
    for (const statusCode of [200, 202, 299]) {
      expect(decideAttempt(facts({ statusCode, attempts: 9, endpoint: undefined }), settings)).toEqual({
        outcome: 'succeeded',
        status: 'succeeded',
        error: null,
        nextAttemptAt: null,
        endpoint: { kind: 'recovered' },
      });
    }
  });

  it('a 2xx on a finished delivery (a manual redelivery) succeeds too', () => {
    expect(decideAttempt(facts({ statusCode: 200, deliveryStatus: 'failed' }), settings).status).toBe('succeeded');
  });

  it('410 Gone disables the endpoint and fails the delivery at once, with retries left', () => {
    expect(decideAttempt(facts({ statusCode: 410, endpoint: undefined }), settings)).toEqual({
      outcome: 'endpoint_disabled',
      status: 'failed',
      error: 'The endpoint answered 410 Gone; it is now disabled',
      nextAttemptAt: null,
      endpoint: { kind: 'disable', reason: 'The endpoint answered 410 Gone' },
    });
  });

  it('a first failure retries on the schedule (jitter at its middle) and starts the failing streak', () => {
    expect(decideAttempt(facts({ statusCode: 500 }), settings)).toEqual({
      outcome: 'retrying',
      status: 'pending',
      error: 'The endpoint answered HTTP 500',
      nextAttemptAt: new Date(AT.getTime() + 1_000),
      endpoint: { kind: 'failing' },
    });
  });

  it('the n-th failure waits the n-th delay of the schedule', () => {
    expect(decideAttempt(facts({ attempts: 2 }), settings).nextAttemptAt).toEqual(new Date(AT.getTime() + 10_000));
    expect(decideAttempt(facts({ attempts: 3 }), settings).nextAttemptAt).toEqual(new Date(AT.getTime() + 60_000));
  });

  it('the delay runs from when the outcome is known, not from when the attempt started', () => {
    // An attempt that timed out after 30 s still leaves the receiver the whole first delay.
    const late = AT.getTime() + 30_000;
    expect(decideAttempt(facts({ statusCode: null, error: 'ETIMEDOUT', now: late }), settings).nextAttemptAt).toEqual(new Date(late + 1_000));
  });

  it('jitter moves the delay within ±20%', () => {
    expect(decideAttempt(facts({}), { ...settings, random: () => 0 }).nextAttemptAt).toEqual(new Date(AT.getTime() + 800));
    expect(decideAttempt(facts({}), { ...settings, random: () => 1 }).nextAttemptAt).toEqual(new Date(AT.getTime() + 1_200));
  });

  it('a Retry-After longer than the delay is honoured, up to the schedule’s longest wait', () => {
    expect(decideAttempt(facts({ statusCode: 429, retryAfterMs: 30_000 }), settings).nextAttemptAt).toEqual(new Date(AT.getTime() + 30_000));
    expect(decideAttempt(facts({ statusCode: 503, retryAfterMs: 10 * HOUR }), settings).nextAttemptAt).toEqual(new Date(AT.getTime() + 60_000));
    expect(decideAttempt(facts({ statusCode: 503, retryAfterMs: 10 }), settings).nextAttemptAt).toEqual(new Date(AT.getTime() + 1_000));
  });

  it('no answer keeps the send step’s error', () => {
    const decision = decideAttempt(facts({ statusCode: null, error: 'ETIMEDOUT: no answer within 5000 ms' }), settings);
    expect(decision).toMatchObject({ outcome: 'retrying', status: 'pending', error: 'ETIMEDOUT: no answer within 5000 ms' });
  });

  it('a refused address is a failure like any other', () => {
    expect(decideAttempt(facts({ statusCode: null, error: 'Refused: 127.0.0.1 is loopback' }), settings)).toMatchObject({
      outcome: 'retrying',
      error: 'Refused: 127.0.0.1 is loopback',
    });
  });

  it('a failure with the schedule used up fails the delivery', () => {
    expect(decideAttempt(facts({ attempts: 4 }), settings)).toEqual({
      outcome: 'failed',
      status: 'failed',
      error: 'The endpoint answered HTTP 500',
      nextAttemptAt: null,
      endpoint: { kind: 'failing' },
    });
    expect(decideAttempt(facts({ attempts: 1 }), { ...settings, retrySchedule: [] })).toMatchObject({ outcome: 'failed', nextAttemptAt: null });
  });

  it('a failed manual attempt of a finished delivery does not restart its retries', () => {
    for (const deliveryStatus of ['failed', 'succeeded'] as const) {
      expect(decideAttempt(facts({ deliveryStatus, attempts: 1 }), settings)).toMatchObject({ outcome: 'failed', status: 'failed', nextAttemptAt: null });
    }
  });

  it('an endpoint failing for less than the limit keeps its streak and the delivery retries', () => {
    const failingSince = new Date(AT.getTime() - (24 * HOUR - 1));
    expect(decideAttempt(facts({ endpoint: { enabled: true, failingSince } }), settings)).toMatchObject({
      outcome: 'retrying',
      endpoint: { kind: 'none' },
    });
  });

  it('an endpoint failing for the limit or longer is disabled, and the delivery fails', () => {
    for (const failingFor of [24 * HOUR, 30 * 24 * HOUR]) {
      const failingSince = new Date(AT.getTime() - failingFor);
      expect(decideAttempt(facts({ endpoint: { enabled: true, failingSince } }), settings)).toEqual({
        outcome: 'endpoint_disabled',
        status: 'failed',
        error: 'The endpoint answered HTTP 500',
        nextAttemptAt: null,
        endpoint: { kind: 'disable', reason: 'Every attempt failed for 24 hours' },
      });
    }
  });

  it('a failure at an endpoint already disabled, or deleted, fails the delivery without writing to it', () => {
    for (const endpoint of [{ enabled: false, failingSince: null }, { enabled: false, failingSince: AT }, null]) {
      expect(decideAttempt(facts({ endpoint }), settings)).toMatchObject({
        outcome: 'endpoint_disabled',
        status: 'failed',
        nextAttemptAt: null,
        endpoint: { kind: 'none' },
      });
    }
  });

  it('the failing streak is measured from `now`, not from the attempt’s start', () => {
    const failingSince = new Date(AT.getTime() - HOUR);
    const endpoint = { enabled: true, failingSince };
    expect(decideAttempt(facts({ endpoint, now: AT.getTime() }), settings).outcome).toBe('retrying');
    expect(decideAttempt(facts({ endpoint, now: AT.getTime() + 23 * HOUR }), settings).outcome).toBe('endpoint_disabled');
  });
});

describe('formatDuration', () => {
  it.each([
    [1_000, '1 second'],
    [90_000, '90 seconds'],
    [HOUR, '1 hour'],
    [36 * HOUR, '36 hours'],
    [48 * HOUR, '2 days'],
    [7 * 24 * HOUR, '7 days'],
  ])('says %d ms as %s', (ms, said) => {
    expect(formatDuration(ms)).toBe(said);
  });
});
