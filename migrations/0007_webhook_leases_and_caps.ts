// Webhook delivery leases and the per-plan cap on webhook endpoints.
//
// A delivery attempt claims its row with a lease (a token and an expiry) in a short transaction,
// commits, calls the endpoint with no connection held, then records the outcome in another short
// transaction guarded by the token. A claimant that dies leaves a lease that simply expires.
import type { Knex } from 'knex';

/** Webhook endpoints per tenant, by plan (-1 = unlimited). */
export const MAX_WEBHOOKS: Readonly<Record<string, number>> = { free: 2, starter: 5, professional: 20, enterprise: -1 };

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.uuid('lease_token');
    t.timestamp('lease_expires_at', { useTz: true });
  });
  await knex.schema.alterTable('plans', (t) => {
    // Plans added later by an operator get the free plan's cap until they say otherwise.
    t.integer('max_webhooks').notNullable().defaultTo(MAX_WEBHOOKS.free as number);
  });
  for (const [code, max] of Object.entries(MAX_WEBHOOKS)) await knex('plans').where({ code }).update({ max_webhooks: max });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('plans', (t) => {
    t.dropColumn('max_webhooks');
  });
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.dropColumn('lease_expires_at');
    t.dropColumn('lease_token');
  });
}
