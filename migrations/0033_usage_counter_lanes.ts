// Usage counters get a lane: a tenant's concurrent submit writes each add to their own row of a
// counter (`lane`), so they no longer queue on one row lock until the other commits. A counter's
// value is the sum of its lanes; every reader sums. Existing rows are lane 0.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table usage_counters add column lane smallint not null default 0 check (lane >= 0)`);
  await knex.raw(`alter table usage_counters drop constraint usage_counters_pkey, add primary key (tenant_id, day, metric, lane)`);
}

export async function down(knex: Knex): Promise<void> {
  // The lanes of a counter fold into one row, so no count is lost.
  await knex.raw(`with folded as (
      delete from usage_counters where lane <> 0 returning tenant_id, day, metric, value, updated_at)
    insert into usage_counters (tenant_id, day, metric, lane, value, updated_at)
    select tenant_id, day, metric, 0, sum(value), max(updated_at) from folded group by tenant_id, day, metric
    on conflict (tenant_id, day, metric, lane) do update
      set value = usage_counters.value + excluded.value, updated_at = greatest(usage_counters.updated_at, excluded.updated_at)`);
  await knex.raw(`alter table usage_counters drop constraint usage_counters_pkey, add primary key (tenant_id, day, metric)`);
  await knex.raw(`alter table usage_counters drop column lane`);
}
