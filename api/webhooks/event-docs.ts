/**
 * The events the API POSTs to webhook endpoints, in the document's `webhooks` section (OpenAPI
 * 3.1): what a receiver is sent and how it answers, from the same schemas as a delivery's payload.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { BatchCompletedEventSchema, JobEventSchema, WebhookTestEventSchema } from '../../shared/wire/webhook-events.ts';

/** Standard Webhooks' headers, on every attempt (docs/http-api.md › Webhooks). */
const SIGNATURE_HEADERS = z.object({
  'webhook-id': z.string().describe('The event id: the same on every attempt of the event'),
  'webhook-timestamp': z.string().describe('Seconds since the epoch when this attempt was signed'),
  'webhook-signature': z.string().describe('`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per secret in force, space-separated'),
});

const EVENTS = [
  { name: 'job.completed', operationId: 'jobCompletedEvent', summary: 'A job completed; its result is at data.job.links.result', schema: JobEventSchema },
  { name: 'job.failed', operationId: 'jobFailedEvent', summary: 'A job failed; data.job.error says why', schema: JobEventSchema },
  { name: 'job.cancelled', operationId: 'jobCancelledEvent', summary: 'A job was cancelled', schema: JobEventSchema },
  { name: 'batch.completed', operationId: 'batchCompletedEvent', summary: "A batch's last job reached a final state", schema: BatchCompletedEventSchema },
  { name: 'webhook.test', operationId: 'webhookTestEvent', summary: 'A test event, sent on request', schema: WebhookTestEventSchema },
] as const;

export function registerWebhookEvents(registry: OpenAPIRegistry): void {
  for (const event of EVENTS) {
    registry.registerWebhook({
      method: 'post',
      path: event.name,
      operationId: event.operationId,
      summary: event.summary,
      tags: ['Webhooks'],
      security: [],
      request: { headers: SIGNATURE_HEADERS, body: { required: true, content: { 'application/json': { schema: event.schema } } } },
      responses: {
        200: { description: 'Any 2xx answer within the delivery timeout acknowledges the event; anything else (a 3xx too) is retried with backoff' },
        410: { description: 'Gone: the endpoint is disabled and sent nothing more' },
      },
    });
  }
}
