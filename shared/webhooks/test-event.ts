/**
 * The `webhook.test` event: a delivery like any other (signed, recorded, retried), sent to one
 * endpoint on request so its owner can check the receiving side.
 */
import type { Knex } from 'knex';
import { newEventId } from './job-events.ts';

/** Inserts a pending `webhook.test` delivery for one endpoint; returns its id. */
export async function recordTestEvent(
  trx: Knex.Transaction,
  tenantId: string,
  endpoint: { id: string; url: string },
): Promise<string> {
  const eventId = newEventId();
  const payload = {
    id: eventId,
    type: 'webhook.test',
    created_at: new Date().toISOString(),
    data: { webhook: { id: endpoint.id, url: endpoint.url }, message: 'A test event from Catalytic' },
  };
  const [row] = await trx('webhook_deliveries')
    .insert({
      tenant_id: tenantId,
      webhook_id: endpoint.id,
      event_id: eventId,
      event_type: 'webhook.test',
      payload,
      status: 'pending',
      next_attempt_at: trx.fn.now(),
    })
    .returning<Array<{ id: string }>>('id');
  return (row as { id: string }).id;
}
