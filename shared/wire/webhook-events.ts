/**
 * Wire schemas of the events POSTed to webhook endpoints (docs/http-api.md › Webhooks): the
 * document's `webhooks` section and a delivery's `payload` are these, so a receiver generated
 * from /openapi.json reads `data.job.result_summary` typed by the job's type.
 */
import './openapi-zod.ts';
import { z } from 'zod';
import { JOB_EVENT_TYPES } from '../webhooks/job-events.ts';
import { JobSummarySchema } from './jobs.ts';

const eventFields = {
  id: z.string().describe('The event id (`evt_…`), also its `webhook-id` header: the same on every attempt, so deduplicate on it'),
  created_at: z.iso.datetime().describe('When the event happened'),
};

export const JobEventSchema = z
  .object({
    ...eventFields,
    type: z.enum(JOB_EVENT_TYPES),
    data: z
      .object({ job: JobSummarySchema })
      .describe("The job as `GET /api/jobs` lists it: the result's scalar fields (`result_summary`) and `links`, never the result itself"),
  })
  .openapi('JobEvent', { description: 'A job reached a final state (`job.completed`, `job.failed` or `job.cancelled`)' });

export const BatchCompletedEventSchema = z
  .object({
    ...eventFields,
    type: z.literal('batch.completed'),
    data: z.object({
      batch: z.object({
        id: z.uuid(),
        total: z.int().describe('Jobs in the batch'),
        labels: z.record(z.string(), z.string()),
        counts: z.object({ completed: z.int(), failed: z.int(), cancelled: z.int() }).describe('How its jobs ended'),
        created_at: z.iso.datetime(),
        completed_at: z.iso.datetime(),
      }),
    }),
  })
  .openapi('BatchCompletedEvent', { description: "A batch's last job reached a final state" });

export const WebhookTestEventSchema = z
  .object({
    ...eventFields,
    type: z.literal('webhook.test'),
    data: z.object({ webhook: z.object({ id: z.uuid(), url: z.string() }), message: z.string() }),
  })
  .openapi('WebhookTestEvent', { description: 'Sent on request (`POST /api/webhooks/{id}/test`), whatever the endpoint subscribes to' });

export const WebhookEventSchema = z
  .discriminatedUnion('type', [JobEventSchema, BatchCompletedEventSchema, WebhookTestEventSchema])
  .openapi('WebhookEvent', { description: "An event as POSTed to an endpoint (a delivery's `payload` is one, exactly as sent); `type` says which" });

export type WebhookEvent = z.infer<typeof WebhookEventSchema>;
