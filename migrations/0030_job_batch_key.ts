// A batch's jobs are written without a foreign-key check per row (docs/performance.md ›
// PostgreSQL per batch job): the key on `jobs.batch_id` looked its batch up (`select … for key
// share`) for each of the up to 1,000 rows of a batch, though the one writer of the column
// (api/batches/store.ts) inserts the batch in the same transaction, just before its jobs. What
// the key's `on delete set null` did is done once per deleting statement instead: a trigger
// clears `batch_id` on the jobs of the batches the statement deleted. It runs as the table
// owner, as the key's action did.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table jobs drop constraint if exists jobs_batch_id_foreign');
  await knex.raw(`
    create function jobs_forget_deleted_batches() returns trigger
    language plpgsql security definer set search_path = pg_catalog, public as $$
    begin
      update jobs j set batch_id = null from deleted_batches d where j.batch_id = d.id;
      return null;
    end $$`);
  await knex.raw(`
    create trigger batches_forget_in_jobs after delete on batches
    referencing old table as deleted_batches
    for each statement execute function jobs_forget_deleted_batches()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists batches_forget_in_jobs on batches');
  await knex.raw('drop function if exists jobs_forget_deleted_batches()');
  await knex.raw('update jobs j set batch_id = null where batch_id is not null and not exists (select 1 from batches b where b.id = j.batch_id)');
  await knex.raw('alter table jobs add constraint jobs_batch_id_foreign foreign key (batch_id) references batches (id) on delete set null');
}
