// Deliveries in flight per tenant: the senders count a tenant's live leases before claiming one
// of its deliveries (WEBHOOK_ATTEMPTS_PER_TENANT), so one tenant's slow endpoints cannot take
// every sender slot. Leases are cleared when an attempt is recorded, so this index holds only
// the attempts in flight (and leases their dead claimants left, until they expire).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'create index webhook_deliveries_tenant_leases on webhook_deliveries (tenant_id, lease_expires_at) where lease_expires_at is not null',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index webhook_deliveries_tenant_leases');
}
