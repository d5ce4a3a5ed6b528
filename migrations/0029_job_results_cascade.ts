// A result row goes with its job without a foreign key (docs/performance.md › PostgreSQL per batch
// job): the key's check ran a lookup of the job (`select … for key share`) for every result the
// final write stored, though that statement takes the job's id from the job row it has just
// updated, as every writer of `job_results` does (shared/jobs/transitions.ts). What the key's
// `on delete cascade` did is done once per deleting statement instead: a trigger deletes the
// results of the jobs the statement deleted (retention, a tenant's deletion through its
// cascade). It runs as the table owner, as a cascade does, whatever the deleting role's
// row-level security would let it see.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table job_results drop constraint if exists job_results_job_id_foreign');
  await knex.raw(`
    create function job_results_delete_with_jobs() returns trigger
    language plpgsql security definer set search_path = pg_catalog, public as $$
    begin
      delete from job_results r using deleted_jobs d where r.job_id = d.id;
      return null;
    end $$`);
  await knex.raw(`
    create trigger jobs_delete_results after delete on jobs
    referencing old table as deleted_jobs
    for each statement execute function job_results_delete_with_jobs()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists jobs_delete_results on jobs');
  await knex.raw('drop function if exists job_results_delete_with_jobs()');
  // Results whose job is gone would refuse the key.
  await knex.raw('delete from job_results r where not exists (select 1 from jobs j where j.id = r.job_id)');
  await knex.raw(
    'alter table job_results add constraint job_results_job_id_foreign foreign key (job_id) references jobs (id) on delete cascade',
  );
}
