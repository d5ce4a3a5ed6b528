// A cheaper final write for a job (docs/performance.md › PostgreSQL per batch job): what the
// statement that ends a job and stores its result makes PostgreSQL do per row, less.
// - `jobs_finished` goes: no query reads it (retention compares `coalesce(finished_at, updated_at)`,
//   which it cannot serve), yet every final state wrote an entry in it.
// - `job_results.tenant_id` loses its foreign key: every writer copies it from the job's row, and
//   the job's own key (`job_results.job_id`, on delete cascade) already removes a result with its
//   job and so with its tenant; the check was one more lookup per result row.
// - `job_results.summary` is written by the writer (shared/jobs/job-body.ts) instead of
//   computed by an SQL function that PostgreSQL ran, and planned, once per row. A writer that gives
//   none (a restore, a hand-written insert) still gets it: a trigger fills it only then.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists jobs_finished');
  await knex.raw('alter table job_results drop constraint if exists job_results_tenant_id_foreign');
  await knex.raw('alter table job_results alter column summary drop expression');
  await knex.raw(`
    create function job_results_fill_summary() returns trigger
    language plpgsql set search_path = pg_catalog, public as $$
    begin
      new.summary := job_result_summary(new.result);
      return new;
    end $$`);
  await knex.raw(`
    create trigger job_results_summary before insert on job_results
    for each row when (new.summary is null) execute function job_results_fill_summary()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists job_results_summary on job_results');
  await knex.raw('drop function if exists job_results_fill_summary()');
  // A generated column cannot be made from a plain one in place (before PostgreSQL 17).
  await knex.raw('alter table job_results drop column summary');
  await knex.raw('alter table job_results add column summary jsonb generated always as (job_result_summary(result)) stored');
  await knex.raw(
    'alter table job_results add constraint job_results_tenant_id_foreign foreign key (tenant_id) references tenants (id) on delete cascade',
  );
  await knex.raw('create index jobs_finished on jobs (finished_at) where finished_at is not null');
}
