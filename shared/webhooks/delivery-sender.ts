/**
 * Makes webhook delivery attempts in three steps — claim (a lease in a short transaction), send
 * (with no database connection held), record (if the lease is still ours) — so a delivery has at
 * most one attempt in flight and a slow endpoint holds no connection.
 * See docs/architecture.md › Webhook delivery.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from '../config.ts';
import type { Db } from '../db.ts';
import type { Logger } from '../logger.ts';
import { webhookDeliveries } from '../metrics.ts';
import { recordNotification } from '../notifications/record.ts';
import { type HostResolver, resolveDeliveryTarget, WebhookUrlRefusedError } from './address-guard.ts';
import {
  type AttemptDecision,
  type AttemptOutcome,
  decideAttempt,
  type DeliveryStatus,
  type EndpointChange,
  responseVerdict,
} from './attempt-decision.ts';
import { lockEndpointHealth } from './endpoint-health.ts';
import { parseRetryAfter } from './retry-schedule.ts';
import { type SecretBox, webhookSecretContext } from './secret-box.ts';
import { signingSecrets } from './secrets.ts';
import { signedHeaders } from './signing.ts';
import { postWebhook, WebhookRequestError } from './webhook-request.ts';

export type { AttemptOutcome, DeliveryStatus } from './attempt-decision.ts';

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

/** A manual attempt found the delivery claimed by an attempt already in flight. */
export class DeliveryBusyError extends Error {
  override readonly name = 'DeliveryBusyError';
  readonly code = 'delivery_busy';
}

export type DeliverySenderConfig = Pick<
  Config,
  'WEBHOOK_ALLOW_PRIVATE_NETWORKS' | 'WEBHOOK_TIMEOUT_MS' | 'WEBHOOK_RETRY_SCHEDULE_MS' | 'WEBHOOK_DISABLE_AFTER_MS' | 'WEBHOOK_ATTEMPTS_PER_TENANT' | 'WEBHOOK_LEASE_MARGIN_MS'
>;

export interface DeliverySenderOptions {
  db: Db;
  logger: Logger;
  config: DeliverySenderConfig;
  /** Opens the endpoints' sealed signing secrets. */
  secretBox: SecretBox;
  /**
   * Longest an attempt may take, DNS and HTTP together, in ms.
   * @defaultValue config.WEBHOOK_TIMEOUT_MS
   */
  timeoutMs?: number;
  /** Host resolution, for tests. @defaultValue the system resolver */
  resolve?: HostResolver;
  /** Which addresses the guard refuses, for tests. @defaultValue isRefusedAddress */
  isRefused?: (address: string) => boolean;
  /** Jitter source, for tests. @defaultValue Math.random */
  random?: () => number;
}

/** A delivery claimed for one attempt: everything the send step needs, read before the claim committed. */
interface ClaimedDelivery {
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
  lease_token: string;
}

const CLAIM_COLUMNS = [
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

/** What the send step learnt; no database is involved in getting it. */
interface SendResult {
  statusCode: number | null;
  latencyMs: number | null;
  error: string | null;
  retryAfterMs: number | undefined;
  refused: boolean;
  at: Date;
}

/** PostgreSQL's lock_not_available, raised by `for update nowait`. */
const LOCK_NOT_AVAILABLE = '55P03';

/** `capped`: the delivery's tenant already has WEBHOOK_ATTEMPTS_PER_TENANT attempts in flight. */
type ClaimResult = { claimed: ClaimedDelivery } | { done: AttemptReport } | { capped: string } | undefined;

export class DeliverySender {
  private readonly timeoutMs: number;

  constructor(private readonly options: DeliverySenderOptions) {
    this.timeoutMs = options.timeoutMs ?? options.config.WEBHOOK_TIMEOUT_MS;
  }

  /**
   * The first attempt of a delivery (or any attempt that is due): does nothing and returns
   * undefined when the delivery is not pending and due, or another process holds it.
   */
  async attemptIfDue(deliveryId: string): Promise<AttemptReport | undefined> {
    return this.attempt(
      await this.claim(false, (q) => this.due(q).where('d.id', deliveryId).forUpdate('d').skipLocked()),
    );
  }

  /**
   * An attempt asked for by the endpoint's owner (redeliver, test event): made now whatever the
   * delivery's status or the endpoint's state. Throws DeliveryBusyError when an attempt is in
   * flight; returns undefined when the delivery does not exist. `tenantId` binds the transaction to
   * the delivery's tenant, for a pool subject to row-level security (the API's).
   */
  async attemptNow(deliveryId: string, tenantId?: string): Promise<AttemptReport | undefined> {
    let claim: ClaimResult;
    try {
      claim = await this.claim(true, (q) => q.where('d.id', deliveryId).forUpdate('d').noWait(), tenantId);
    } catch (err) {
      if ((err as { code?: string }).code === LOCK_NOT_AVAILABLE) {
        throw new DeliveryBusyError('An attempt of this delivery is in progress', { cause: err });
      }
      throw err;
    }
    return this.attempt(claim);
  }

  /**
   * Claims the most overdue pending delivery nobody else holds and attempts it. Deliveries never
   * attempted are left to the worker's queue for a first grace period (the first retry delay),
   * then picked up here too: that covers a process that died between commit and dispatch.
   */
  async attemptNextDue(cappedTenants = new Set<string>()): Promise<AttemptReport | undefined> {
    const graceMs = this.options.config.WEBHOOK_RETRY_SCHEDULE_MS[0] ?? 0;
    for (;;) {
      const claim = await this.claim(false, (q) =>
        this.due(q)
          .whereNotIn('d.tenant_id', [...cappedTenants])
          .where((w) =>
            w.where('d.attempts', '>', 0).orWhereRaw(`d.created_at <= now() - make_interval(secs => ?)`, [graceMs / 1000]),
          )
          .orderBy('d.next_attempt_at')
          .forUpdate('d')
          .skipLocked(),
      );
      // A tenant at its cap waits for the next run; the next tenant's delivery goes now.
      if (claim && 'capped' in claim) cappedTenants.add(claim.capped);
      else return this.attempt(claim);
    }
  }

  /**
   * Attempts due deliveries with `parallelism` concurrent claims until none is due, `limit`
   * attempts were made or `signal` aborts. Returns the number of attempts made.
   */
  async retryDue(options: { limit: number; parallelism: number; signal?: AbortSignal }): Promise<number> {
    let made = 0;
    let exhausted = false;
    // Tenants found at their cap during this run: skipped until the next run.
    const capped = new Set<string>();
    const loop = async () => {
      while (!exhausted && made < options.limit && !options.signal?.aborted) {
        const report = await this.attemptNextDue(capped);
        if (!report) exhausted = true;
        else made++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.parallelism) }, loop));
    return made;
  }

  /**
   * Pending, due, not leased to an attempt in flight, and of a tenant with fewer than
   * WEBHOOK_ATTEMPTS_PER_TENANT attempts in flight (a cheap first look; the claim counts again
   * under the tenant's lock), so one tenant's hanging endpoints cannot take every sender's slots.
   */
  private due(q: Knex.QueryBuilder): Knex.QueryBuilder {
    return q
      .where('d.status', 'pending')
      .whereRaw('d.next_attempt_at <= now()')
      .where((w) => w.whereNull('d.lease_expires_at').orWhereRaw('d.lease_expires_at <= now()'))
      .whereRaw(
        `(select count(*) from webhook_deliveries l
           where l.tenant_id = d.tenant_id and l.lease_expires_at is not null and l.lease_expires_at > now()) < ?`,
        [this.options.config.WEBHOOK_ATTEMPTS_PER_TENANT],
      );
  }

  /**
   * A transaction bound to `tenantId` when one is known: the API's pool is subject to row-level
   * security and sees the tenant's rows only so (the owner's pool of workers and the scheduler
   * sees them either way).
   */
  private transaction<T>(tenantId: string | undefined, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.options.db.transaction(async (trx) => {
      if (tenantId) await trx.raw(`select set_config('app.tenant_id', ?, true)`, [tenantId]);
      return fn(trx);
    });
  }

  /**
   * Step 1, one short transaction: picks a delivery with `select`, then either fails it at once
   * (a due delivery of a disabled endpoint) or leases it to this attempt. The transaction commits
   * before anything leaves the process.
   */
  private claim(manual: boolean, select: (q: Knex.QueryBuilder) => Knex.QueryBuilder, tenantId?: string): Promise<ClaimResult> {
    // A lease outlives the attempt it covers (bounded by the attempt timeout) by a margin, so only
    // a process that stopped mid-attempt, not a slow one, ever loses its lease.
    const leaseMs = 2 * this.timeoutMs + this.options.config.WEBHOOK_LEASE_MARGIN_MS;
    return this.transaction(tenantId, async (trx): Promise<ClaimResult> => {
      const row = await select(trx('webhook_deliveries as d').join('webhooks as w', 'w.id', 'd.webhook_id').select(CLAIM_COLUMNS))
        .select(trx.raw('(d.lease_expires_at > now()) as leased'))
        .first<(Omit<ClaimedDelivery, 'lease_token'> & { leased: boolean | null }) | undefined>();
      if (!row) return undefined;
      const { leased, ...delivery } = row;
      if (leased) {
        // Only a manual attempt gets this far with a live lease (the others filter them out).
        throw new DeliveryBusyError('An attempt of this delivery is in progress');
      }
      if (!delivery.enabled && !manual) return { done: await this.failDisabled(trx, delivery) };
      if (!manual && (await this.atTenantCap(trx, delivery.tenant_id))) return { capped: delivery.tenant_id };
      const leaseToken = randomUUID();
      await trx('webhook_deliveries')
        .where({ id: delivery.id })
        .update({ lease_token: leaseToken, lease_expires_at: trx.raw('now() + make_interval(secs => ?)', [leaseMs / 1000]) });
      return { claimed: { ...delivery, lease_token: leaseToken } };
    });
  }

  /**
   * Whether the tenant has WEBHOOK_ATTEMPTS_PER_TENANT attempts in flight, counted under a lock of
   * the tenant's claims (held to commit), so concurrent claimants see each other's leases and
   * the cap holds exactly. Manual attempts (tests, redeliveries) have their own bound.
   */
  private async atTenantCap(trx: Knex.Transaction, tenantId: string): Promise<boolean> {
    await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`catalytic:webhook-attempts:${tenantId}`]);
    const [row] = await trx('webhook_deliveries')
      .where({ tenant_id: tenantId })
      .whereNotNull('lease_expires_at')
      .whereRaw('lease_expires_at > now()')
      .count<Array<{ count: string | number }>>({ count: '*' });
    return Number(row?.count ?? 0) >= this.options.config.WEBHOOK_ATTEMPTS_PER_TENANT;
  }

  private async attempt(claim: ClaimResult): Promise<AttemptReport | undefined> {
    if (!claim || 'capped' in claim) return undefined;
    if ('done' in claim) return claim.done;
    const row = claim.claimed;
    // Its log lines name the tenant themselves: no AsyncLocalStorage context, which on Node 20
    // would turn on promise hooks for the whole process (the worker's jobs included).
    const sent = await this.send(row);
    return this.record(row, sent);
  }

  /** Step 2, no database: resolve and check the address, sign, POST, all within timeoutMs. */
  private async send(row: ClaimedDelivery): Promise<SendResult> {
    const { config } = this.options;
    const at = new Date();
    const started = performance.now();
    const body = JSON.stringify(row.payload);
    const result: SendResult = { statusCode: null, latencyMs: null, error: null, retryAfterMs: undefined, refused: false, at };
    try {
      const target = await withDeadline(
        resolveDeliveryTarget(row.url, {
          allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
          resolve: this.options.resolve,
          isRefused: this.options.isRefused,
        }),
        this.timeoutMs,
        () => new WebhookRequestError(`The host did not resolve within ${this.timeoutMs} ms`, 'ETIMEDOUT', Math.round(performance.now() - started)),
      );
      const headers = signedHeaders(row.event_id, at, body, signingSecrets(this.openSecrets(row), at));
      const left = Math.max(1, this.timeoutMs - (performance.now() - started));
      const response = await postWebhook(target, body, { ...headers }, left);
      result.statusCode = response.status;
      result.latencyMs = response.latencyMs;
      result.retryAfterMs = parseRetryAfter(response.retryAfter);
    } catch (err) {
      if (err instanceof WebhookUrlRefusedError) {
        result.refused = true;
        result.error = `Refused: ${err.message}`;
      } else if (err instanceof WebhookRequestError) {
        result.error = `${err.code}: ${err.message}`;
        result.latencyMs = err.latencyMs;
      } else {
        result.error = `Could not send: ${(err as Error).message}`;
      }
    }
    return result;
  }

  /** The endpoint's signing secrets in the clear, for this attempt only (never stored or logged). */
  private openSecrets(row: ClaimedDelivery): Pick<ClaimedDelivery, 'secret' | 'previous_secret' | 'previous_secret_expires_at'> {
    const box = this.options.secretBox;
    const context = webhookSecretContext(row.webhook_id);
    return {
      secret: box.open(row.secret, context),
      previous_secret: row.previous_secret === null ? null : box.open(row.previous_secret, context),
      previous_secret_expires_at: row.previous_secret_expires_at,
    };
  }

  /**
   * Step 3, one short transaction: reads what the decision needs (the delivery, if the lease is
   * still this attempt's; the endpoint, locked, after a failure), decides, and writes the outcome.
   */
  private async record(row: ClaimedDelivery, sent: SendResult): Promise<AttemptReport> {
    const { config } = this.options;
    return this.transaction(row.tenant_id, async (trx) => {
      const current = await trx('webhook_deliveries')
        .where({ id: row.id, lease_token: row.lease_token })
        .forUpdate()
        .first<{ status: DeliveryStatus; attempts: number } | undefined>('status', 'attempts');
      const { statusCode, latencyMs } = sent;
      const attempts = (current?.attempts ?? row.attempts) + 1;
      if (!current) {
        // The delivery was deleted, or our lease ran out and another attempt took it over: that
        // attempt's outcome is the one that counts.
        this.options.logger.warn({ tenantId: row.tenant_id, deliveryId: row.id, statusCode, error: sent.error }, 'webhook attempt finished after losing its lease; outcome not recorded');
        return { deliveryId: row.id, outcome: 'retrying', status: 'pending', attempts, statusCode, latencyMs, error: sent.error, nextAttemptAt: null };
      }
      const endpoint = responseVerdict(statusCode) === 'failure' ? await lockEndpointHealth(trx, row.webhook_id) : undefined;
      const decision = decideAttempt(
        { ...sent, attempts, deliveryStatus: current.status, endpoint, now: Date.now() },
        { retrySchedule: config.WEBHOOK_RETRY_SCHEDULE_MS, disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS, random: this.options.random },
      );
      await this.changeEndpoint(trx, row.webhook_id, decision.endpoint);
      const { outcome, status, error, nextAttemptAt } = decision;
      await trx('webhook_deliveries').where({ id: row.id }).update({
        status,
        attempts,
        next_attempt_at: nextAttemptAt,
        last_attempt_at: sent.at,
        last_status_code: statusCode,
        last_latency_ms: latencyMs,
        last_error: error,
        lease_token: null,
        lease_expires_at: null,
        updated_at: trx.fn.now(),
      });
      this.report(row, sent, { ...decision, attempts });
      return { deliveryId: row.id, outcome, status, attempts, statusCode, latencyMs, error, nextAttemptAt };
    });
  }

  /** The attempt in metrics and the log. */
  private report(row: ClaimedDelivery, sent: SendResult, decision: AttemptDecision & { attempts: number }): void {
    const { outcome, error, nextAttemptAt } = decision;
    webhookDeliveries.inc({
      outcome: outcome === 'succeeded' ? 'success' : outcome === 'endpoint_disabled' ? 'disabled' : sent.refused ? 'refused' : 'failure',
    });
    this.options.logger.info(
      {
        tenantId: row.tenant_id,
        deliveryId: row.id,
        webhookId: row.webhook_id,
        eventId: row.event_id,
        eventType: row.event_type,
        attempt: decision.attempts,
        statusCode: sent.statusCode,
        latencyMs: sent.latencyMs,
        outcome,
        ...(error ? { error } : {}),
        ...(nextAttemptAt ? { nextAttemptAt: nextAttemptAt.toISOString() } : {}),
      },
      'webhook delivery attempt',
    );
  }

  /** A due delivery of a disabled endpoint fails without an attempt. */
  private async failDisabled(trx: Knex.Transaction, row: { id: string; attempts: number }): Promise<AttemptReport> {
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

  /** Writes what an attempt's decision changes on its endpoint. */
  private async changeEndpoint(trx: Knex.Transaction, webhookId: string, change: EndpointChange): Promise<void> {
    switch (change.kind) {
      case 'none':
        return;
      case 'recovered':
        await trx('webhooks').where({ id: webhookId }).whereNotNull('failing_since').update({ failing_since: null });
        return;
      case 'failing':
        await trx('webhooks').where({ id: webhookId }).update({ failing_since: trx.fn.now() });
        return;
      case 'disable':
        await this.disableEndpoint(trx, webhookId, change.reason);
    }
  }

  private async disableEndpoint(trx: Knex.Transaction, webhookId: string, reason: string): Promise<void> {
    // Only an enabled endpoint: of two attempts answered 410 at once, one disables it and notifies.
    const [endpoint] = await trx('webhooks')
      .where({ id: webhookId, enabled: true })
      .update({ enabled: false, disabled_reason: reason, updated_at: trx.fn.now() })
      .returning<Array<{ tenant_id: string; url: string; updated_at: Date }>>(['tenant_id', 'url', 'updated_at']);
    if (!endpoint) return;
    await recordNotification(trx, {
      tenantId: endpoint.tenant_id,
      kind: 'webhook_disabled',
      key: `webhook:${webhookId}:${endpoint.updated_at.toISOString()}`,
      params: { url: endpoint.url, webhook_id: webhookId, reason },
    });
    this.options.logger.warn({ tenantId: endpoint.tenant_id, webhookId, reason }, 'webhook endpoint disabled');
  }
}

/** Settles with `promise`, or rejects with `timeout()` after `ms` (the work itself is not stopped). */
function withDeadline<T>(promise: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeout()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
