// A job's state version: a counter PostgreSQL raises whenever a column of the public job body
// changes, whoever writes the row (API, worker, reconcile). API processes cache job reads under it
// (docs/architecture.md › Job reads and the job-state cache); heartbeats and cancel flags, which no
// client sees, leave it alone.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.bigInteger('state_version').notNullable().defaultTo(0);
  });
  await knex.raw(`
    create function jobs_raise_state_version() returns trigger language plpgsql as $$
    begin
      new.state_version := old.state_version + 1;
      return new;
    end $$`);
  // The result row is written in the transaction that marks the job completed, so the status
  // change covers it.
  await knex.raw(`
    create trigger jobs_state_version before update on jobs for each row
    when ((old.status, old.progress, old.attempts, old.started_at, old.finished_at, old.queue_wait_ms, old.run_ms, old.error::text)
          is distinct from
          (new.status, new.progress, new.attempts, new.started_at, new.finished_at, new.queue_wait_ms, new.run_ms, new.error::text))
    execute function jobs_raise_state_version()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists jobs_state_version on jobs');
  await knex.raw('drop function if exists jobs_raise_state_version()');
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('state_version');
  });
}
