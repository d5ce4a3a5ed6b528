/**
 * Job events become webhook deliveries in the same transaction as the job's final state, so an
 * event is never lost between the two (one job's at a time, or many jobs' in one statement). The first attempt is dispatched after commit; if the
 * process dies before that, the scheduler's webhook-retry job finds the pending row.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { type JobBodyFields, jobListItem, resultSummary } from '../jobs/job-body.ts';

export const JOB_EVENT_TYPES = ['job.completed', 'job.failed', 'job.cancelled'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];
/** Events an endpoint may subscribe to: its jobs' final states, and a batch's last job ending. */
export const SUBSCRIBABLE_EVENT_TYPES = [...JOB_EVENT_TYPES, 'batch.completed'] as const;
export const WEBHOOK_EVENT_TYPES = [...SUBSCRIBABLE_EVENT_TYPES, 'webhook.test'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The event for a job's final status. */
export function jobEventType(status: 'completed' | 'failed' | 'cancelled'): JobEventType {
  return `job.${status}`;
}

/**
 * What an event says of its job: the job as lists show it, with the result's scalar fields and a
 * link to the result, never the result itself — a path may list 10^6 cells, and every endpoint's
 * delivery row would store it again (docs/http-api.md › Webhooks).
 */
export function jobEventBody(row: JobBodyFields, result: Record<string, unknown> | null): JobEvent['job'] {
  return jobListItem(row, result === null ? null : resultSummary(result));
}

export function newEventId(): string {
  return `evt_${randomUUID().replaceAll('-', '')}`;
}

/**
 * Inserts one pending delivery per enabled endpoint of the tenant subscribed to `type`, due at
 * once. `job` is the public job body (docs/architecture.md › The job body). Returns the new delivery ids.
 */
export async function recordJobEvent(
  trx: Knex.Transaction,
  tenantId: string,
  type: JobEventType,
  job: { id: string } & Record<string, unknown>,
): Promise<string[]> {
  const endpoints = await trx('webhooks')
    .where({ tenant_id: tenantId, enabled: true })
    .whereRaw('? = any(events)', [type])
    .select<{ id: string }[]>('id');
  if (endpoints.length === 0) return [];
  const deliveries = await insertJobEventDeliveries(trx, [{ tenantId, type, job, webhookIds: endpoints.map((e) => e.id) }]);
  return deliveries.get(job.id) ?? [];
}

/**
 * SQL for the ids (text[]) of a tenant's enabled endpoints subscribed to an event type, for use
 * inside a larger statement; the arguments are SQL expressions.
 */
export function subscribedWebhookIds(tenantIdSql: string, eventTypeSql: string): string {
  return `(select coalesce(array_agg(w.id::text), '{}') from webhooks w
            where w.tenant_id = ${tenantIdSql} and w.enabled and (${eventTypeSql}) = any(w.events))`;
}

/** One job event and the endpoints it goes to. */
export interface JobEvent {
  tenantId: string;
  type: JobEventType;
  /** The public job body. */
  job: { id: string } & Record<string, unknown>;
  webhookIds: readonly string[];
}

/**
 * Inserts the pending deliveries of many job events in one statement (one event id per event,
 * shared by its endpoints). Returns the new delivery ids by job id.
 */
export async function insertJobEventDeliveries(trx: Knex.Transaction, events: readonly JobEvent[]): Promise<Map<string, string[]>> {
  const byJob = new Map<string, string[]>();
  const rows = events.flatMap((event) => {
    const eventId = newEventId();
    const payload = { id: eventId, type: event.type, created_at: new Date().toISOString(), data: { job: event.job } };
    return event.webhookIds.map((webhookId) => ({
      tenant_id: event.tenantId,
      webhook_id: webhookId,
      job_id: event.job.id,
      event_id: eventId,
      event_type: event.type,
      payload,
      status: 'pending',
      next_attempt_at: trx.fn.now(),
    }));
  });
  if (rows.length === 0) return byJob;
  const inserted = await trx('webhook_deliveries').insert(rows).returning<Array<{ id: string; job_id: string }>>(['id', 'job_id']);
  for (const row of inserted) byJob.set(row.job_id, [...(byJob.get(row.job_id) ?? []), row.id]);
  return byJob;
}

/** Sends first attempts of new deliveries (the worker role's webhook queue). */
export interface DeliveryDispatcher {
  dispatch(deliveryIds: readonly string[]): Promise<void>;
}
