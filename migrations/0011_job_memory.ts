// A job's memory reservation, computed once at submit from its lattice and kernel. A job on a
// stored lattice carries no spec of its own, so the row keeps what its queue entry needs when it is
// queued again (an idempotent replay, reconcile after a Redis loss).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.bigInteger('memory_bytes');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('memory_bytes');
  });
}
