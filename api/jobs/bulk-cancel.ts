/**
 * Cancels many unfinished jobs of a tenant by a filter (a batch, labels, status, type, creation
 * time) in one transaction: queued ones become `cancelled` in one statement with their
 * `job.cancelled` events, as one job's cancel writes them; running ones get their cancel flag and
 * are stopped by their workers. At most {@link BULK_CANCEL_MAX} jobs per call, so one request
 * never holds a transaction over millions of rows; `more` tells the caller to call again.
 */
import type { Knex } from 'knex';
import { takeBatchDeliveries } from '../../shared/jobs/transitions.ts';
import type { JobRow } from '../../shared/jobs/types.ts';
import { insertJobEventDeliveries, type JobEvent, jobEventBody, jobEventType, subscribedWebhookIds } from '../../shared/webhooks/job-events.ts';

/** Most jobs one bulk cancel changes. */
export const BULK_CANCEL_MAX = 10_000;

/** Which unfinished jobs to cancel; every given filter must match. */
export interface CancelFilter {
  batchId?: string;
  labels?: Record<string, string>;
  status?: 'queued' | 'running';
  type?: string;
  createdAfter?: string;
}

export interface BulkCancel {
  cancelled: number;
  /** The jobs cancelled now, with their new state versions: job reads' caches must hear of them. */
  finished: Array<{ id: string; progress: number; version: number }>;
  /** Running jobs asked to stop: their ids, for the cancel message to their workers. */
  stopping: string[];
  /** Webhook deliveries written (job events, and a batch's own when this ended it), to dispatch after commit. */
  deliveryIds: string[];
  more: boolean;
}

/** The filter as SQL on `jobs` (alias-free), with its bindings. */
function where(tenantId: string, filter: CancelFilter, status: 'queued' | 'running'): { sql: string; bindings: string[] } {
  const clauses: Array<[string, string | undefined]> = [
    ['tenant_id = ?', tenantId],
    ['status = ?', status],
    ['batch_id = ?', filter.batchId],
    ['labels @> ?::jsonb', filter.labels && JSON.stringify(filter.labels)],
    ['type = ?', filter.type],
    ['created_at > ?::timestamptz', filter.createdAfter],
  ];
  const given = clauses.filter((c): c is [string, string] => c[1] !== undefined);
  return { sql: given.map(([sql]) => sql).join(' and '), bindings: given.map(([, value]) => value) };
}

export async function cancelJobsWhere(trx: Knex.Transaction, tenantId: string, filter: CancelFilter): Promise<BulkCancel> {
  let rows: Array<JobRow & { webhook_ids: string[] }> = [];
  let stopping: string[] = [];
  if (filter.status !== 'running') {
    const q = where(tenantId, filter, 'queued');
    rows = (
      await trx.raw<{ rows: Array<JobRow & { webhook_ids: string[] }> }>(
        `with updated as (
           update jobs set status = 'cancelled', finished_at = now(), updated_at = now(),
                  cancel_requested_at = coalesce(cancel_requested_at, now())
            where id in (select id from jobs where ${q.sql} limit ${BULK_CANCEL_MAX + 1} for update skip locked)
            returning *)
         select u.*, ${subscribedWebhookIds('u.tenant_id', `'job.cancelled'`)} as webhook_ids from updated u`,
        q.bindings,
      )
    ).rows;
  }
  if (filter.status !== 'queued') {
    const q = where(tenantId, filter, 'running');
    stopping = (
      await trx.raw<{ rows: Array<{ id: string }> }>(
        `update jobs set cancel_requested_at = coalesce(cancel_requested_at, now()), updated_at = now()
          where id in (select id from jobs where ${q.sql} and cancel_requested_at is null limit ${BULK_CANCEL_MAX + 1})
          returning id`,
        q.bindings,
      )
    ).rows.map((r) => r.id);
  }
  const events: JobEvent[] = rows
    .filter((row) => row.webhook_ids.length > 0)
    .map(({ webhook_ids, ...row }) => ({ tenantId, type: jobEventType('cancelled'), job: jobEventBody(row, null), webhookIds: webhook_ids }));
  const deliveries = await insertJobEventDeliveries(trx, events);
  return {
    cancelled: rows.length,
    finished: rows.map((row) => ({ id: row.id, progress: row.progress, version: row.state_version })),
    stopping,
    deliveryIds: [...[...deliveries.values()].flat(), ...(await takeBatchDeliveries(trx))],
    more: rows.length > BULK_CANCEL_MAX || stopping.length > BULK_CANCEL_MAX,
  };
}
