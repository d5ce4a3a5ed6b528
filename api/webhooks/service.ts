/**
 * What the webhook routes do, apart from HTTP: endpoints bounded by the plan, secrets sealed for
 * their endpoint, and test events and redeliveries attempted during the request.
 *
 * Test events and redeliveries are attempted with no database connection held while the endpoint
 * is called, a few per tenant at a time (ManualAttemptLimiter), each within WEBHOOK_TEST_TIMEOUT_MS,
 * so the response says what the endpoint answered.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { z } from 'zod';
import type { Principal } from '../../shared/auth/principal.ts';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import type { ListCursor } from '../../shared/list-cursor.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { DeliveryBusyError, DeliverySender } from '../../shared/webhooks/delivery-sender.ts';
import { webhookSecretContext } from '../../shared/webhooks/secret-box.ts';
import { generateWebhookSecret } from '../../shared/webhooks/secrets.ts';
import { recordTestEvent } from '../../shared/webhooks/test-event.ts';
import type { PlanCache } from '../auth/plan-cache.ts';
import { lockTenant } from '../jobs/jobs-service.ts';
import { ManualAttemptLimiter } from './manual-attempts.ts';
import type { CreateEndpointBody, DeliveryListQuery, UpdateEndpointBody } from './schemas.ts';
import type { DeliveryRow, EndpointRow } from './serialize.ts';
import {
  countEndpoints,
  deleteEndpoint,
  findDelivery,
  findEndpoint,
  insertEndpoint,
  listDeliveries,
  type ListedDelivery,
  listEndpoints,
  rotateEndpointSecret,
  updateEndpoint,
} from './store.ts';
import { checkEndpointUrl } from './url-check.ts';

export class WebhookService {
  private readonly sender: DeliverySender;
  private readonly limiter: ManualAttemptLimiter;

  constructor(
    private readonly runtime: Runtime,
    private readonly plans: Pick<PlanCache, 'get'>,
  ) {
    const { db, config, logger, secretBox } = runtime;
    this.sender = new DeliverySender({ db, logger, config, secretBox, timeoutMs: config.WEBHOOK_TEST_TIMEOUT_MS });
    this.limiter = new ManualAttemptLimiter(config.WEBHOOK_TEST_CONCURRENCY_PER_TENANT, Math.ceil(config.WEBHOOK_TEST_TIMEOUT_MS / 1000));
  }

  /** Creates an endpoint within the plan's bound; returns it with its secret (shown only once). */
  async create(principal: Principal, body: z.infer<typeof CreateEndpointBody>): Promise<{ row: EndpointRow; secret: string }> {
    const { tenantId } = principal;
    const url = await checkEndpointUrl(body.url, this.runtime.config);
    const plan = await this.plans.get(principal.planCode);
    const secret = generateWebhookSecret();
    // The id is chosen here: the sealed secret is bound to it.
    const id = randomUUID();
    const row = await withTenant(this.runtime.db, tenantId, async (trx) => {
      // Every job event fans out to every endpoint: the plan bounds how many there are.
      if (plan.max_webhooks >= 0) {
        await lockTenant(trx, 'webhooks', tenantId);
        const count = await countEndpoints(trx, tenantId);
        if (count >= plan.max_webhooks) {
          throw new AppError('plan_limit_exceeded', `The ${plan.name} plan allows ${plan.max_webhooks} webhook endpoints`, {
            extra: { limit: 'max_webhooks', limit_value: plan.max_webhooks, value: count + 1, plan: plan.code },
          });
        }
      }
      return insertEndpoint(trx, tenantId, {
        id,
        url,
        events: body.events,
        description: body.description ?? null,
        enabled: body.enabled,
        sealedSecret: this.runtime.secretBox.seal(secret, webhookSecretContext(id)),
      });
    });
    return { row, secret };
  }

  list(tenantId: string): Promise<EndpointRow[]> {
    return withTenant(this.runtime.db, tenantId, (trx) => listEndpoints(trx, tenantId));
  }

  get(tenantId: string, id: string): Promise<EndpointRow> {
    return withTenant(this.runtime.db, tenantId, (trx) => endpointOrNotFound(trx, tenantId, id));
  }

  /** Changes an endpoint; enabling a disabled one clears its failure history. */
  async update(tenantId: string, id: string, body: z.infer<typeof UpdateEndpointBody>): Promise<EndpointRow> {
    const url = body.url === undefined ? undefined : await checkEndpointUrl(body.url, this.runtime.config);
    return withTenant(this.runtime.db, tenantId, async (trx) => {
      const current = await endpointOrNotFound(trx, tenantId, id);
      const changes: Record<string, unknown> = {};
      if (url !== undefined) changes.url = url;
      if (body.events !== undefined) changes.events = body.events;
      if (body.description !== undefined) changes.description = body.description;
      if (body.enabled === true && !current.enabled) Object.assign(changes, { enabled: true, disabled_reason: null, failing_since: null });
      if (body.enabled === false && current.enabled) Object.assign(changes, { enabled: false, disabled_reason: 'Disabled by a user' });
      return updateEndpoint(trx, tenantId, id, changes);
    });
  }

  async remove(tenantId: string, id: string): Promise<void> {
    await withTenant(this.runtime.db, tenantId, async (trx) => {
      await endpointOrNotFound(trx, tenantId, id);
      await deleteEndpoint(trx, tenantId, id);
    });
  }

  /** Issues a new secret; the previous one keeps signing for `ttlS` seconds. */
  async rotateSecret(tenantId: string, id: string, ttlS: number): Promise<{ secret: string; previousExpiresAt: Date | null }> {
    const secret = generateWebhookSecret();
    const previousExpiresAt = await withTenant(this.runtime.db, tenantId, async (trx) => {
      await endpointOrNotFound(trx, tenantId, id);
      return rotateEndpointSecret(trx, tenantId, id, this.runtime.secretBox.seal(secret, webhookSecretContext(id)), ttlS);
    });
    return { secret, previousExpiresAt };
  }

  /** Records a `webhook.test` event for the endpoint and attempts its delivery now. */
  sendTest(tenantId: string, id: string): Promise<DeliveryRow> {
    // The bound is checked before the event is recorded, so a refused test leaves nothing behind.
    return this.limiter.run(tenantId, async () => {
      const deliveryId = await withTenant(this.runtime.db, tenantId, async (trx) =>
        recordTestEvent(trx, tenantId, await endpointOrNotFound(trx, tenantId, id)),
      );
      return this.attemptNow(tenantId, deliveryId);
    });
  }

  async listDeliveries(
    tenantId: string,
    id: string,
    query: Pick<z.infer<typeof DeliveryListQuery>, 'limit' | 'status'>,
    after: ListCursor | undefined,
  ): Promise<{ rows: ListedDelivery[]; next?: ListCursor }> {
    return withTenant(this.runtime.db, tenantId, async (trx) => {
      await endpointOrNotFound(trx, tenantId, id);
      return listDeliveries(trx, tenantId, id, { limit: query.limit, status: query.status, after });
    });
  }

  /** A delivery of an endpoint, with the event payload as sent. */
  async getDelivery(tenantId: string, id: string, deliveryId: string): Promise<DeliveryRow> {
    const row = await withTenant(this.runtime.db, tenantId, (trx) => findDelivery(trx, tenantId, { id: deliveryId, webhookId: id }, { payload: true }));
    if (!row) throw new AppError('not_found', `No delivery ${deliveryId} for webhook ${id}`);
    return row;
  }

  /** Sends a delivery again now, with the same webhook-id. */
  async redeliver(tenantId: string, id: string, deliveryId: string): Promise<DeliveryRow> {
    const found = await withTenant(this.runtime.db, tenantId, (trx) => findDelivery(trx, tenantId, { id: deliveryId, webhookId: id }));
    if (!found) throw new AppError('not_found', `No delivery ${deliveryId} for webhook ${id}`);
    return this.limiter.run(tenantId, () => this.attemptNow(tenantId, deliveryId));
  }

  /** Attempts a delivery now; returns its updated row. */
  private async attemptNow(tenantId: string, deliveryId: string): Promise<DeliveryRow> {
    try {
      await this.sender.attemptNow(deliveryId, tenantId);
    } catch (err) {
      if (err instanceof DeliveryBusyError) throw new AppError('conflict', err.message);
      throw err;
    }
    const row = await withTenant(this.runtime.db, tenantId, (trx) => findDelivery(trx, tenantId, { id: deliveryId }));
    if (!row) throw new AppError('not_found', `No delivery ${deliveryId}`);
    return row;
  }
}

async function endpointOrNotFound(trx: Knex.Transaction, tenantId: string, id: string): Promise<EndpointRow> {
  const row = await findEndpoint(trx, tenantId, id);
  if (!row) throw new AppError('not_found', `No webhook endpoint ${id}`);
  return row;
}
