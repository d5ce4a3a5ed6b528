/**
 * Wire schemas of the webhook routes: the API validates requests and documents itself at
 * /openapi.json with them, and the SDK takes its types from them.
 */
import './openapi-zod.ts';
import { z } from 'zod';
import { SUBSCRIBABLE_EVENT_TYPES } from '../webhooks/job-events.ts';
import { DAY } from '../units.ts';
import { WebhookEventSchema } from './webhook-events.ts';

export const EndpointIdParams = z.object({ id: z.uuid() });
export const DeliveryIdParams = z.object({ id: z.uuid(), did: z.uuid() });

const urlField = z.string().min(1).max(2048).describe('Where events are POSTed: http(s), checked against the SSRF guard');
const eventsField = z
  .array(z.enum(SUBSCRIBABLE_EVENT_TYPES))
  .min(1)
  .refine((events) => new Set(events).size === events.length, { error: 'must not repeat an event' })
  .openapi({ uniqueItems: true })
  .describe('Events sent to this endpoint (`webhook.test` is sent on request whatever this lists)');
const descriptionField = z.string().max(500).nullable();

export const CreateEndpointBody = z.strictObject({
  url: urlField,
  events: eventsField,
  description: descriptionField.optional(),
  enabled: z.boolean().default(true),
});

export const UpdateEndpointBody = z
  .strictObject({
    url: urlField.optional(),
    events: eventsField.optional(),
    description: descriptionField.optional(),
    enabled: z.boolean().optional().describe('Enabling an endpoint clears its failure history'),
  })
  .refine((body) => Object.values(body).some((v) => v !== undefined), { error: 'must change at least one field' })
  .openapi({ description: 'Fields to change, at least one', minProperties: 1 });

export const RotateSecretBody = z.strictObject({
  previous_secret_ttl_s: z
    .number()
    .int()
    .min(0)
    .max((7 * DAY) / 1000)
    .default(86_400)
    .describe('How long the previous secret keeps signing alongside the new one (0 ends it at once)'),
});

export const DeliveryListQuery = z.object({
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().describe('`next_cursor` of the previous page'),
});

export const EndpointSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().describe('Why the endpoint was disabled (410 Gone, failing for days, by a user)'),
    failing_since: z.string().nullable().describe('Start of the current run of failed attempts'),
    previous_secret_expires_at: z.string().nullable().describe('End of the current rotation window, if any'),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('WebhookEndpoint');

export const EndpointWithSecretSchema = EndpointSchema.extend({
  secret: z.string().describe('The signing secret (`whsec_…`); shown only now'),
}).openapi('WebhookEndpointWithSecret');

export const EndpointListSchema = z.object({ data: z.array(EndpointSchema) });

export const RotatedSecretSchema = z.object({
  secret: z.string().describe('The new signing secret (`whsec_…`); shown only now'),
  previous_secret_expires_at: z.string().nullable(),
});

export const DeliverySchema = z
  .object({
    id: z.uuid(),
    webhook_id: z.uuid(),
    event_id: z.string().describe('The `webhook-id` header: the same on every attempt'),
    event_type: z.string(),
    job_id: z.uuid().nullable(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int(),
    next_attempt_at: z.string().nullable(),
    last_attempt_at: z.string().nullable(),
    last_status_code: z.number().int().nullable(),
    last_latency_ms: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('WebhookDelivery');

export const DeliveryWithPayloadSchema = DeliverySchema.extend({
  payload: WebhookEventSchema,
}).openapi('WebhookDeliveryWithPayload');

export const DeliveryListSchema = z.object({
  data: z.array(DeliverySchema),
  next_cursor: z.string().nullable(),
});
