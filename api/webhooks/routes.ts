/**
 * Webhook endpoints and their deliveries (docs/http-api.md › Webhooks):
 * `POST|GET /api/webhooks`, `GET|PATCH|DELETE /api/webhooks/:id`,
 * `POST /api/webhooks/:id/rotate-secret`, `POST /api/webhooks/:id/test`,
 * `GET /api/webhooks/:id/deliveries[/:did]`, `POST /api/webhooks/:id/deliveries/:did/redeliver`.
 *
 * The HTTP side only: what the routes do is in service.ts, their SQL in store.ts.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { listCursorParam, nextCursorParam } from '../../shared/list-cursor.ts';
import { problem } from '../auth/schemas.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';
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
import { registerWebhookEvents } from './event-docs.ts';
import { deliveryJson, endpointJson } from './serialize.ts';
import { WebhookService } from './service.ts';

const TAGS = ['Webhooks'];
const READ = { scopes: ['webhooks:read'] } as const;
const WRITE = { scopes: ['webhooks:write'] } as const;

export function webhookRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  registerWebhookEvents(registry);
  const router = new Router<ApiState>();
  const webhooks = new WebhookService(deps.runtime, deps.identity.plans);

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
      403: problem("The address of the user (or of the API key's creator) is not confirmed yet (`email_unverified`)"),
    },
    async handler(ctx, { body, principal }) {
      await deps.verification.assertVerified(principal, 'add webhook endpoints');
      const { row, secret } = await webhooks.create(principal, body);
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
      ctx.body = { data: (await webhooks.list(principal.tenantId)).map(endpointJson) };
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
      ctx.body = endpointJson(await webhooks.get(principal.tenantId, params.id));
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
      ctx.body = endpointJson(await webhooks.update(principal.tenantId, params.id, body));
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
      await webhooks.remove(principal.tenantId, params.id);
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
      const { secret, previousExpiresAt } = await webhooks.rotateSecret(principal.tenantId, params.id, body.previous_secret_ttl_s);
      ctx.body = { secret, previous_secret_expires_at: previousExpiresAt ? previousExpiresAt.toISOString() : null };
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
      ctx.body = deliveryJson(await webhooks.sendTest(principal.tenantId, params.id));
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
      const after = listCursorParam(query.cursor);
      const page = await webhooks.listDeliveries(principal.tenantId, params.id, query, after);
      // `limit` deliveries a page, without listPage's byte cap.
      ctx.body = { data: page.rows.map(deliveryJson), next_cursor: nextCursorParam(page.next) };
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
      ctx.body = deliveryJson(await webhooks.getDelivery(principal.tenantId, params.id, params.did));
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
      ctx.body = deliveryJson(await webhooks.redeliver(principal.tenantId, params.id, params.did));
    },
  });

  return router;
}
