// Result summaries for job lists: each result row carries its scalar fields (length, count,
// total_heat…) in a column PostgreSQL computes on insert, so a list reads a few bytes per job and
// never the result itself (a path may list 10^6 cells).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function job_result_summary(result jsonb) returns jsonb
      language sql immutable parallel safe
      as $$ select coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
              from jsonb_each(result) where jsonb_typeof(value) not in ('array', 'object') $$`);
  await knex.raw(`alter table job_results add column summary jsonb generated always as (job_result_summary(result)) stored`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table job_results drop column summary');
  await knex.raw('drop function job_result_summary(jsonb)');
}
