/**
 * Webhook endpoints and their deliveries (DESIGN.md §7):
 * `POST|GET /api/webhooks`, `GET|PATCH|DELETE /api/webhooks/:id`,
 * `POST /api/webhooks/:id/rotate-secret`, `POST /api/webhooks/:id/test`,
 * `GET /api/webhooks/:id/deliveries[/:did]`, `POST /api/webhooks/:id/deliveries/:did/redeliver`.
 *
 * Tenant data is read and written inside `withTenant` (row-level security) and filtered by
 * tenant in code as well. Test events and redeliveries are attempted during the request, so the
 * response says what the endpoint answered: with no database connection held while the endpoint
 * is called, a few per tenant at a time (ManualAttemptLimiter), each within WEBHOOK_TEST_TIMEOUT_MS.
 */
import { randomUUID } from 'node:crypto';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import type { Knex } from 'knex';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { encodeListCursor, listCursorParam } from '../../shared/list-cursor.ts';
import { DeliveryBusyError, DeliverySender } from '../../shared/webhooks/delivery-sender.ts';
import { webhookSecretContext } from '../../shared/webhooks/secret-box.ts';
import { generateWebhookSecret } from '../../shared/webhooks/secrets.ts';
import { recordTestEvent } from '../../shared/webhooks/test-event.ts';
import { lockTenant } from '../jobs/jobs-service.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiRouterContext, ApiState } from '../state.ts';
import {
  CreateEndpointBody,
  DeliveryIdParams,
  DeliveryListQuery,
  DeliveryListSchema,
  DeliverySchema,
  DeliveryWithPayloadSchema,
  EndpointIdParams,
  EndpointListSchema,
  EndpointSchema,
  EndpointWithSecretSchema,
  RotatedSecretSchema,
  RotateSecretBody,
  UpdateEndpointBody,
} from './schemas.ts';
import {
  DELIVERY_COLUMNS,
  type DeliveryRow,
  deliveryJson,
  ENDPOINT_COLUMNS,
  type EndpointRow,
  endpointJson,
} from './serialize.ts';
import { ManualAttemptLimiter } from './manual-attempts.ts';
import { checkEndpointUrl } from './url-check.ts';

const TAGS = ['Webhooks'];
const READ = { scopes: ['webhooks:read'] } as const;
const WRITE = { scopes: ['webhooks:write'] } as const;

async function findEndpoint(trx: Knex.Transaction, tenantId: string, id: string): Promise<EndpointRow> {
  const row = await trx('webhooks').where({ tenant_id: tenantId, id }).first<EndpointRow | undefined>(ENDPOINT_COLUMNS);
  if (!row) throw new AppError('not_found', `No webhook endpoint ${id}`);
  return row;
}

export function webhookRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { runtime } = deps;
  const { db, config } = runtime;
  const sender = new DeliverySender({ db, logger: runtime.logger, config, secretBox: runtime.secretBox, timeoutMs: config.WEBHOOK_TEST_TIMEOUT_MS });
  const limiter = new ManualAttemptLimiter(config.WEBHOOK_TEST_CONCURRENCY_PER_TENANT, Math.ceil(config.WEBHOOK_TEST_TIMEOUT_MS / 1000));

  /** Attempts a delivery now and answers with its updated row. */
  async function attemptAndShow(ctx: ApiRouterContext, tenantId: string, deliveryId: string): Promise<void> {
    try {
      await sender.attemptNow(deliveryId, tenantId);
    } catch (err) {
      if (err instanceof DeliveryBusyError) throw new AppError('conflict', err.message);
      throw err;
    }
    const row = await withTenant(db, tenantId, (trx) =>
      trx('webhook_deliveries').where({ tenant_id: tenantId, id: deliveryId }).first<DeliveryRow | undefined>(DELIVERY_COLUMNS),
    );
    if (!row) throw new AppError('not_found', `No delivery ${deliveryId}`);
    ctx.body = deliveryJson(row);
  }

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/webhooks',
    summary: 'Create a webhook endpoint (the signing secret is shown only in this response)',
    tags: TAGS,
    auth: WRITE,
    body: CreateEndpointBody,
    responses: {
      201: { description: 'The endpoint and its secret', schema: EndpointWithSecretSchema },
      402: { description: 'The plan allows no more webhook endpoints' },
    },
    async handler(ctx, { body, principal }) {
      const { tenantId } = principal;
      const url = await checkEndpointUrl(body.url, config);
      const plan = await deps.identity.plans.get(principal.planCode);
      const secret = generateWebhookSecret();
      // The id is chosen here: the sealed secret is bound to it.
      const id = randomUUID();
      const row = await withTenant(db, tenantId, async (trx) => {
        // Every job event fans out to every endpoint: the plan bounds how many there are.
        if (plan.max_webhooks >= 0) {
          await lockTenant(trx, 'webhooks', tenantId);
          const [counted] = await trx('webhooks').where({ tenant_id: tenantId }).count<Array<{ count: number }>>({ count: '*' });
          const count = Number(counted?.count ?? 0);
          if (count >= plan.max_webhooks) {
            throw new AppError('plan_limit_exceeded', `The ${plan.name} plan allows ${plan.max_webhooks} webhook endpoints`, {
              extra: { limit: 'max_webhooks', limit_value: plan.max_webhooks, value: count + 1, plan: plan.code },
            });
          }
        }
        const [created] = await trx('webhooks')
          .insert({
            id,
            tenant_id: tenantId,
            url,
            events: body.events,
            description: body.description ?? null,
            enabled: body.enabled,
            secret: runtime.secretBox.seal(secret, webhookSecretContext(id)),
          })
          .returning<EndpointRow[]>(ENDPOINT_COLUMNS);
        return created as EndpointRow;
      });
      ctx.status = 201;
      ctx.set('Location', `/api/webhooks/${row.id}`);
      ctx.body = { ...endpointJson(row), secret };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/webhooks',
    summary: 'List webhook endpoints',
    tags: TAGS,
    auth: READ,
    responses: { 200: { description: 'The endpoints, oldest first', schema: EndpointListSchema } },
    async handler(ctx, { principal }) {
      const { tenantId } = principal;
      const rows = await withTenant(db, tenantId, (trx) =>
        trx('webhooks').where({ tenant_id: tenantId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).select<EndpointRow[]>(ENDPOINT_COLUMNS),
      );
      ctx.body = { data: rows.map(endpointJson) };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/webhooks/:id',
    summary: 'Get a webhook endpoint',
    tags: TAGS,
    auth: READ,
    params: EndpointIdParams,
    responses: { 200: { description: 'The endpoint', schema: EndpointSchema } },
    async handler(ctx, { params, principal }) {
      const { tenantId } = principal;
      ctx.body = endpointJson(await withTenant(db, tenantId, (trx) => findEndpoint(trx, tenantId, params.id)));
    },
  });

  defineRoute(router, registry, deps, {
    method: 'patch',
    path: '/api/webhooks/:id',
    summary: 'Change a webhook endpoint (enabling it clears its failure history)',
    tags: TAGS,
    auth: WRITE,
    params: EndpointIdParams,
    body: UpdateEndpointBody,
    responses: { 200: { description: 'The endpoint', schema: EndpointSchema } },
    async handler(ctx, { params, body, principal }) {
      const { tenantId } = principal;
      const url = body.url === undefined ? undefined : await checkEndpointUrl(body.url, config);
      const row = await withTenant(db, tenantId, async (trx) => {
        const current = await findEndpoint(trx, tenantId, params.id);
        const changes: Record<string, unknown> = { updated_at: trx.fn.now() };
        if (url !== undefined) changes.url = url;
        if (body.events !== undefined) changes.events = body.events;
        if (body.description !== undefined) changes.description = body.description;
        if (body.enabled === true && !current.enabled) Object.assign(changes, { enabled: true, disabled_reason: null, failing_since: null });
        if (body.enabled === false && current.enabled) Object.assign(changes, { enabled: false, disabled_reason: 'Disabled by a user' });
        const [updated] = await trx('webhooks')
          .where({ tenant_id: tenantId, id: params.id })
          .update(changes)
          .returning<EndpointRow[]>(ENDPOINT_COLUMNS);
        return updated as EndpointRow;
      });
      ctx.body = endpointJson(row);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'delete',
    path: '/api/webhooks/:id',
    summary: 'Delete a webhook endpoint and its deliveries',
    tags: TAGS,
    auth: WRITE,
    params: EndpointIdParams,
    responses: { 204: { description: 'Deleted' } },
    async handler(ctx, { params, principal }) {
      const { tenantId } = principal;
      await withTenant(db, tenantId, async (trx) => {
        await findEndpoint(trx, tenantId, params.id);
        // Deliveries first: an attempt in flight holds its delivery's lock and then touches the
        // endpoint, so taking the locks in the same order cannot deadlock with it.
        await trx('webhook_deliveries').where({ tenant_id: tenantId, webhook_id: params.id }).delete();
        await trx('webhooks').where({ tenant_id: tenantId, id: params.id }).delete();
      });
      ctx.status = 204;
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/webhooks/:id/rotate-secret',
    summary: 'Issue a new signing secret; the previous one keeps signing for a while',
    tags: TAGS,
    auth: WRITE,
    params: EndpointIdParams,
    body: RotateSecretBody,
    responses: { 200: { description: 'The new secret (shown only now)', schema: RotatedSecretSchema } },
    async handler(ctx, { params, body, principal }) {
      const { tenantId } = principal;
      const secret = generateWebhookSecret();
      const ttlS = body.previous_secret_ttl_s;
      const expiresAt = await withTenant(db, tenantId, async (trx) => {
        await findEndpoint(trx, tenantId, params.id);
        const [row] = await trx('webhooks')
          .where({ tenant_id: tenantId, id: params.id })
          .update({
            // Both sealed for this endpoint: the current ciphertext simply moves over.
            previous_secret: ttlS > 0 ? trx.ref('secret') : null,
            previous_secret_expires_at: ttlS > 0 ? trx.raw('now() + make_interval(secs => ?)', [ttlS]) : null,
            secret: runtime.secretBox.seal(secret, webhookSecretContext(params.id)),
            updated_at: trx.fn.now(),
          })
          .returning<Array<{ previous_secret_expires_at: Date | null }>>('previous_secret_expires_at');
        return row?.previous_secret_expires_at ?? null;
      });
      ctx.body = { secret, previous_secret_expires_at: expiresAt ? expiresAt.toISOString() : null };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/webhooks/:id/test',
    summary: 'Send a signed `webhook.test` event to the endpoint now',
    tags: TAGS,
    auth: WRITE,
    params: EndpointIdParams,
    responses: {
      200: { description: 'The test delivery after its first attempt (retried like any other if it failed)', schema: DeliverySchema },
      429: { description: 'The tenant has too many test or redeliver attempts in flight' },
    },
    async handler(ctx, { params, principal }) {
      const { tenantId } = principal;
      // The bound is checked before the event is recorded, so a refused test leaves nothing behind.
      await limiter.run(tenantId, async () => {
        const deliveryId = await withTenant(db, tenantId, async (trx) =>
          recordTestEvent(trx, tenantId, await findEndpoint(trx, tenantId, params.id)),
        );
        await attemptAndShow(ctx, tenantId, deliveryId);
      });
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/webhooks/:id/deliveries',
    summary: 'List deliveries to an endpoint, newest first',
    tags: TAGS,
    auth: READ,
    params: EndpointIdParams,
    query: DeliveryListQuery,
    responses: { 200: { description: 'A page of deliveries', schema: DeliveryListSchema } },
    async handler(ctx, { params, query, principal }) {
      const { tenantId } = principal;
      const after = listCursorParam(query.cursor);
      const rows = await withTenant(db, tenantId, async (trx) => {
        await findEndpoint(trx, tenantId, params.id);
        const q = trx('webhook_deliveries')
          .where({ tenant_id: tenantId, webhook_id: params.id })
          .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
          .limit(query.limit + 1)
          .select<Array<DeliveryRow & { cursor_at: string }>>([
            ...DELIVERY_COLUMNS,
            trx.raw(`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`),
          ]);
        if (query.status) q.where({ status: query.status });
        if (after) q.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [after.at, after.id]);
        return q;
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      ctx.body = {
        data: page.map(deliveryJson),
        next_cursor: rows.length > query.limit && last ? encodeListCursor({ at: last.cursor_at, id: last.id }) : null,
      };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/webhooks/:id/deliveries/:did',
    summary: 'Get a delivery, with the event payload as sent',
    tags: TAGS,
    auth: READ,
    params: DeliveryIdParams,
    responses: { 200: { description: 'The delivery', schema: DeliveryWithPayloadSchema } },
    async handler(ctx, { params, principal }) {
      const { tenantId } = principal;
      const row = await withTenant(db, tenantId, (trx) =>
        trx('webhook_deliveries')
          .where({ tenant_id: tenantId, webhook_id: params.id, id: params.did })
          .first<DeliveryRow | undefined>([...DELIVERY_COLUMNS, 'payload']),
      );
      if (!row) throw new AppError('not_found', `No delivery ${params.did} for webhook ${params.id}`);
      ctx.body = deliveryJson(row);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/webhooks/:id/deliveries/:did/redeliver',
    summary: 'Send a delivery again now, with the same webhook-id',
    tags: TAGS,
    auth: WRITE,
    params: DeliveryIdParams,
    responses: {
      200: { description: 'The delivery after the attempt', schema: DeliverySchema },
      409: { description: 'An attempt of this delivery is in progress' },
      429: { description: 'The tenant has too many test or redeliver attempts in flight' },
    },
    async handler(ctx, { params, principal }) {
      const { tenantId } = principal;
      const found = await withTenant(db, tenantId, (trx) =>
        trx('webhook_deliveries').where({ tenant_id: tenantId, webhook_id: params.id, id: params.did }).first('id'),
      );
      if (!found) throw new AppError('not_found', `No delivery ${params.did} for webhook ${params.id}`);
      await limiter.run(tenantId, () => attemptAndShow(ctx, tenantId, params.did));
    },
  });

  return router;
}
