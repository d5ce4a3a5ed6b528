// The worker's final write raises a job's `state_version` itself (shared/jobs/transitions.ts ›
// finishAttempts), in the statement that ends the job: the row trigger of migration 0013, a
// PL/pgSQL call per row, is then skipped for that row. Every other writer leaves the column alone
// and gets the trigger's raise as before.
import type { Knex } from 'knex';

const CHANGED = `(old.status, old.progress, old.attempts, old.started_at, old.finished_at, old.queue_wait_ms, old.run_ms, old.error::text)
          is distinct from
          (new.status, new.progress, new.attempts, new.started_at, new.finished_at, new.queue_wait_ms, new.run_ms, new.error::text)`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists jobs_state_version on jobs');
  await knex.raw(`
    create trigger jobs_state_version before update on jobs for each row
    when (old.state_version = new.state_version and ${CHANGED})
    execute function jobs_raise_state_version()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists jobs_state_version on jobs');
  await knex.raw(`
    create trigger jobs_state_version before update on jobs for each row
    when (${CHANGED})
    execute function jobs_raise_state_version()`);
}
