/**
 * Job events become webhook deliveries in the same transaction as the job's final state, so an
 * event is never lost between the two. The first attempt is dispatched after commit; if the
 * process dies before that, the scheduler's webhook-retry job finds the pending row.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export const JOB_EVENT_TYPES = ['job.completed', 'job.failed', 'job.cancelled'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];
export const WEBHOOK_EVENT_TYPES = [...JOB_EVENT_TYPES, 'webhook.test'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The event for a job's final status. */
export function jobEventType(status: 'completed' | 'failed' | 'cancelled'): JobEventType {
  return `job.${status}`;
}

export function newEventId(): string {
  return `evt_${randomUUID().replaceAll('-', '')}`;
}

/**
 * Inserts one pending delivery per enabled endpoint of the tenant subscribed to `type`, due at
 * once. `job` is the public job body (DESIGN.md §6). Returns the new delivery ids.
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
  const eventId = newEventId();
  const payload = { id: eventId, type, created_at: new Date().toISOString(), data: { job } };
  const rows = await trx('webhook_deliveries')
    .insert(
      endpoints.map((endpoint) => ({
        tenant_id: tenantId,
        webhook_id: endpoint.id,
        job_id: job.id,
        event_id: eventId,
        event_type: type,
        payload,
        status: 'pending',
        next_attempt_at: trx.fn.now(),
      })),
    )
    .returning<{ id: string }[]>('id');
  return rows.map((r) => r.id);
}

/** Sends first attempts of new deliveries (the worker role's webhook queue). */
export interface DeliveryDispatcher {
  dispatch(deliveryIds: readonly string[]): Promise<void>;
}
