/**
 * The endpoint row lock a failed attempt's record takes. It is FOR NO KEY UPDATE, not FOR UPDATE:
 * every new delivery's foreign key takes KEY SHARE on its endpoint, which FOR UPDATE blocks, and
 * the worker's group commit finishes many tenants' jobs (and inserts their deliveries) in one
 * transaction — so a tenant whose tarpit endpoints time out by the dozen would stall every other
 * tenant's job completions behind its own endpoint's lock (docs/testing.md › Noisy-neighbour suite).
 */
import type { Knex } from 'knex';
import type { EndpointHealth } from './attempt-decision.ts';

/**
 * The endpoint's state, its row locked against other attempts' records: the lock orders
 * concurrent attempts at one endpoint, so exactly one of them disables it. Null when it is gone.
 */
export async function lockEndpointHealth(trx: Knex.Transaction, webhookId: string): Promise<EndpointHealth | null> {
  const endpoint = await trx('webhooks')
    .where({ id: webhookId })
    .forNoKeyUpdate()
    .first<{ enabled: boolean; failing_since: Date | null } | undefined>('enabled', 'failing_since');
  return endpoint ? { enabled: endpoint.enabled, failingSince: endpoint.failing_since } : null;
}
