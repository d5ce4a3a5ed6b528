/**
 * Makes delivery attempts. Each attempt runs in one transaction that holds the delivery's row
 * lock from choosing it until its outcome is written, so however many workers, schedulers and API
 * processes try, one delivery has at most one attempt in flight; a process that dies mid-attempt
 * drops its connection, PostgreSQL releases the lock and the delivery is simply due again.
 *
 * Outcomes: a 2xx succeeds; 410 Gone disables the endpoint; anything else (another status, a
 * timeout, a refused address) schedules the next retry, or fails the delivery when the schedule is
 * used up. An endpoint that has failed every attempt for WEBHOOK_DISABLE_AFTER_MS is disabled.
 */
import type { Knex } from 'knex';
import type { Config } from '../config.ts';
import { withLogContext } from '../context.ts';
import type { Db } from '../db.ts';
import type { Logger } from '../logger.ts';
import { webhookDeliveries } from '../metrics.ts';
import { type HostResolver, resolveDeliveryTarget, WebhookUrlRefusedError } from './address-guard.ts';
import { nextRetryDelay, parseRetryAfter } from './retry-schedule.ts';
import { signingSecrets } from './secrets.ts';
import { signedHeaders } from './signing.ts';
import { postWebhook, WebhookRequestError } from './webhook-request.ts';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** What an attempt led to. */
export type AttemptOutcome = 'succeeded' | 'retrying' | 'failed' | 'endpoint_disabled';

export interface AttemptReport {
  deliveryId: string;
  outcome: AttemptOutcome;
  status: DeliveryStatus;
  attempts: number;
  statusCode: number | null;
  latencyMs: number | null;
  error: string | null;
  nextAttemptAt: Date | null;
}

/** A manual attempt found the delivery locked by an attempt already in flight. */
export class DeliveryBusyError extends Error {
  override readonly name = 'DeliveryBusyError';
  readonly code = 'delivery_busy';
}

export type DeliverySenderConfig = Pick<
  Config,
  'WEBHOOK_ALLOW_PRIVATE_NETWORKS' | 'WEBHOOK_TIMEOUT_MS' | 'WEBHOOK_RETRY_SCHEDULE_MS' | 'WEBHOOK_DISABLE_AFTER_MS'
>;

export interface DeliverySenderOptions {
  db: Db;
  logger: Logger;
  config: DeliverySenderConfig;
  /** Host resolution, for tests. @defaultValue the system resolver */
  resolve?: HostResolver;
  /** Which addresses the guard refuses, for tests. @defaultValue isRefusedAddress */
  isRefused?: (address: string) => boolean;
  /** Jitter source, for tests. @defaultValue Math.random */
  random?: () => number;
}

interface LockedDelivery {
  id: string;
  tenant_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  payload: unknown;
  status: DeliveryStatus;
  attempts: number;
  url: string;
  enabled: boolean;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

const LOCKED_COLUMNS = [
  'd.id',
  'd.tenant_id',
  'd.webhook_id',
  'd.event_id',
  'd.event_type',
  'd.payload',
  'd.status',
  'd.attempts',
  'w.url',
  'w.enabled',
  'w.secret',
  'w.previous_secret',
  'w.previous_secret_expires_at',
];

/** PostgreSQL's lock_not_available, raised by `for update nowait`. */
const LOCK_NOT_AVAILABLE = '55P03';

export class DeliverySender {
  constructor(private readonly options: DeliverySenderOptions) {}

  /**
   * The first attempt of a delivery (or any attempt that is due): does nothing and returns
   * undefined when the delivery is not pending and due, or another process holds it.
   */
  async attemptIfDue(deliveryId: string): Promise<AttemptReport | undefined> {
    return this.options.db.transaction(async (trx) => {
      const row = await this.selectLocked(trx)
        .where('d.id', deliveryId)
        .where('d.status', 'pending')
        .where('d.next_attempt_at', '<=', trx.fn.now())
        .forUpdate('d')
        .skipLocked()
        .first<LockedDelivery | undefined>();
      return row ? this.deliver(trx, row, false) : undefined;
    });
  }

  /**
   * An attempt asked for by the endpoint's owner (redeliver, test event): made now whatever the
   * delivery's status or the endpoint's state. Throws DeliveryBusyError when an attempt is in
   * flight; returns undefined when the delivery does not exist. `tenantId` binds the transaction to
   * the delivery's tenant, for a pool subject to row-level security (the API's).
   */
  async attemptNow(deliveryId: string, tenantId?: string): Promise<AttemptReport | undefined> {
    try {
      return await this.options.db.transaction(async (trx) => {
        if (tenantId) await trx.raw(`select set_config('app.tenant_id', ?, true)`, [tenantId]);
        const row = await this.selectLocked(trx).where('d.id', deliveryId).forUpdate('d').noWait().first<LockedDelivery | undefined>();
        return row ? this.deliver(trx, row, true) : undefined;
      });
    } catch (err) {
      if ((err as { code?: string }).code === LOCK_NOT_AVAILABLE) {
        throw new DeliveryBusyError('An attempt of this delivery is in progress', { cause: err });
      }
      throw err;
    }
  }

  /**
   * Claims the most overdue pending delivery nobody else holds and attempts it. Deliveries never
   * attempted are left to the worker's queue for a first grace period (the first retry delay),
   * then picked up here too: that covers a process that died between commit and dispatch.
   */
  async attemptNextDue(): Promise<AttemptReport | undefined> {
    const graceMs = this.options.config.WEBHOOK_RETRY_SCHEDULE_MS[0] ?? 0;
    return this.options.db.transaction(async (trx) => {
      const row = await this.selectLocked(trx)
        .where('d.status', 'pending')
        .where('d.next_attempt_at', '<=', trx.fn.now())
        .where((q) =>
          q.where('d.attempts', '>', 0).orWhereRaw(`d.created_at <= now() - make_interval(secs => ?)`, [graceMs / 1000]),
        )
        .orderBy('d.next_attempt_at')
        .forUpdate('d')
        .skipLocked()
        .first<LockedDelivery | undefined>();
      return row ? this.deliver(trx, row, false) : undefined;
    });
  }

  /**
   * Attempts due deliveries with `parallelism` concurrent claims until none is due, `limit`
   * attempts were made or `signal` aborts. Returns the number of attempts made.
   */
  async retryDue(options: { limit: number; parallelism: number; signal?: AbortSignal }): Promise<number> {
    let made = 0;
    let exhausted = false;
    const loop = async () => {
      while (!exhausted && made < options.limit && !options.signal?.aborted) {
        const report = await this.attemptNextDue();
        if (!report) exhausted = true;
        else made++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.parallelism) }, loop));
    return made;
  }

  private selectLocked(trx: Knex.Transaction): Knex.QueryBuilder {
    return trx('webhook_deliveries as d').join('webhooks as w', 'w.id', 'd.webhook_id').select(LOCKED_COLUMNS);
  }

  private async deliver(trx: Knex.Transaction, row: LockedDelivery, manual: boolean): Promise<AttemptReport> {
    return withLogContext({ tenantId: row.tenant_id }, async () => {
      if (!row.enabled && !manual) return this.failDisabled(trx, row);
      const { config } = this.options;
      const now = new Date();
      const body = JSON.stringify(row.payload);
      let statusCode: number | null = null;
      let latencyMs: number | null = null;
      let error: string | null = null;
      let retryAfterMs: number | undefined;
      let refused = false;
      try {
        const target = await resolveDeliveryTarget(row.url, {
          allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
          resolve: this.options.resolve,
          isRefused: this.options.isRefused,
        });
        const headers = signedHeaders(row.event_id, now, body, signingSecrets(row, now));
        const response = await postWebhook(target, body, { ...headers }, config.WEBHOOK_TIMEOUT_MS);
        statusCode = response.status;
        latencyMs = response.latencyMs;
        retryAfterMs = parseRetryAfter(response.retryAfter);
      } catch (err) {
        if (err instanceof WebhookUrlRefusedError) {
          refused = true;
          error = `Refused: ${err.message}`;
        } else if (err instanceof WebhookRequestError) {
          error = `${err.code}: ${err.message}`;
          latencyMs = err.latencyMs;
        } else {
          throw err;
        }
      }

      const attempts = row.attempts + 1;
      let outcome: AttemptOutcome;
      let status: DeliveryStatus;
      let nextAttemptAt: Date | null = null;
      if (statusCode !== null && statusCode >= 200 && statusCode < 300) {
        outcome = 'succeeded';
        status = 'succeeded';
        await trx('webhooks').where({ id: row.webhook_id }).whereNotNull('failing_since').update({ failing_since: null });
      } else if (statusCode === 410) {
        outcome = 'endpoint_disabled';
        status = 'failed';
        error = 'The endpoint answered 410 Gone; it is now disabled';
        await this.disableEndpoint(trx, row.webhook_id, 'The endpoint answered 410 Gone');
      } else {
        error ??= `The endpoint answered HTTP ${statusCode}`;
        const disabled = await this.noteFailure(trx, row.webhook_id);
        // A manual attempt of a finished delivery does not restart its retries.
        const delay = disabled || (manual && row.status !== 'pending')
          ? undefined
          : nextRetryDelay(attempts, config.WEBHOOK_RETRY_SCHEDULE_MS, { retryAfterMs, random: this.options.random });
        if (disabled) {
          outcome = 'endpoint_disabled';
          status = 'failed';
        } else if (delay === undefined) {
          outcome = 'failed';
          status = 'failed';
        } else {
          outcome = 'retrying';
          status = 'pending';
          nextAttemptAt = new Date(now.getTime() + delay);
        }
      }

      await trx('webhook_deliveries').where({ id: row.id }).update({
        status,
        attempts,
        next_attempt_at: nextAttemptAt,
        last_attempt_at: now,
        last_status_code: statusCode,
        last_latency_ms: latencyMs,
        last_error: error,
        updated_at: trx.fn.now(),
      });
      webhookDeliveries.inc({
        outcome: outcome === 'succeeded' ? 'success' : outcome === 'endpoint_disabled' ? 'disabled' : refused ? 'refused' : 'failure',
      });
      this.options.logger.info(
        {
          deliveryId: row.id,
          webhookId: row.webhook_id,
          eventId: row.event_id,
          eventType: row.event_type,
          attempt: attempts,
          statusCode,
          latencyMs,
          outcome,
          ...(error ? { error } : {}),
          ...(nextAttemptAt ? { nextAttemptAt: nextAttemptAt.toISOString() } : {}),
        },
        'webhook delivery attempt',
      );
      return { deliveryId: row.id, outcome, status, attempts, statusCode, latencyMs, error, nextAttemptAt };
    });
  }

  /** A due delivery of a disabled endpoint fails without an attempt. */
  private async failDisabled(trx: Knex.Transaction, row: LockedDelivery): Promise<AttemptReport> {
    const error = 'The endpoint is disabled';
    await trx('webhook_deliveries')
      .where({ id: row.id })
      .update({ status: 'failed', next_attempt_at: null, last_error: error, updated_at: trx.fn.now() });
    return {
      deliveryId: row.id,
      outcome: 'failed',
      status: 'failed',
      attempts: row.attempts,
      statusCode: null,
      latencyMs: null,
      error,
      nextAttemptAt: null,
    };
  }

  /**
   * Records that the endpoint is failing and disables it once it has failed long enough. Returns
   * true when the endpoint is (now or already) disabled.
   */
  private async noteFailure(trx: Knex.Transaction, webhookId: string): Promise<boolean> {
    const { WEBHOOK_DISABLE_AFTER_MS } = this.options.config;
    // The row lock orders concurrent attempts at one endpoint, so exactly one of them disables it.
    const endpoint = await trx('webhooks')
      .where({ id: webhookId })
      .forUpdate()
      .first<{ enabled: boolean; failing_since: Date | null } | undefined>('enabled', 'failing_since');
    if (!endpoint) return true;
    if (!endpoint.enabled) return true;
    if (!endpoint.failing_since) {
      await trx('webhooks').where({ id: webhookId }).update({ failing_since: trx.fn.now() });
      return false;
    }
    const failingFor = Date.now() - endpoint.failing_since.getTime();
    if (failingFor < WEBHOOK_DISABLE_AFTER_MS) return false;
    await this.disableEndpoint(trx, webhookId, `Every attempt failed for ${formatDuration(WEBHOOK_DISABLE_AFTER_MS)}`);
    return true;
  }

  private async disableEndpoint(trx: Knex.Transaction, webhookId: string, reason: string): Promise<void> {
    await trx('webhooks').where({ id: webhookId }).update({ enabled: false, disabled_reason: reason, updated_at: trx.fn.now() });
    this.options.logger.warn({ webhookId, reason }, 'webhook endpoint disabled');
  }
}

function formatDuration(ms: number): string {
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? '' : 's'}`;
  const hours = ms / 3_600_000;
  if (hours >= 48) return unit(Math.round(hours / 24), 'day');
  if (hours >= 1) return unit(Math.round(hours), 'hour');
  return unit(Math.round(ms / 1000), 'second');
}
