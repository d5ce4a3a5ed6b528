// Teams: a per-plan cap on seats (members plus pending invitations), and when a user's email
// address was confirmed (by accepting an invitation sent to it, or by an address check).
import type { Knex } from 'knex';

/** Seats per tenant, by plan (-1 = unlimited). */
export const MAX_SEATS: Readonly<Record<string, number>> = { free: 3, starter: 10, professional: 50, enterprise: -1 };

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('plans', (t) => {
    // Plans added later by an operator get the free plan's cap until they say otherwise.
    t.integer('max_seats').notNullable().defaultTo(MAX_SEATS.free as number);
  });
  for (const [code, max] of Object.entries(MAX_SEATS)) await knex('plans').where({ code }).update({ max_seats: max });
  await knex.schema.alterTable('users', (t) => {
    t.timestamp('email_verified_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('email_verified_at');
  });
  await knex.schema.alterTable('plans', (t) => {
    t.dropColumn('max_seats');
  });
}
