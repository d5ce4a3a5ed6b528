// Fewer index entries per job state change. No update of a job's status is HOT (the status is
// indexed), so each writes an entry in every index of `jobs` whose predicate the new row meets:
// reconcile reads `(status, updated_at)` for queued and running rows only, `finished_at` is null
// until a job ends, and the lattice foreign keys look up stored lattices only (a batch's inline
// lattice has none). Partial indexes leave the other rows out, so a batch job's insert, start and
// final state each write 5 index entries instead of 8 (docs/performance.md › Batches).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists jobs_status_updated');
  await knex.raw(`create index jobs_status_updated on jobs (status, updated_at) where status in ('queued', 'running')`);
  await knex.raw('drop index if exists jobs_finished');
  await knex.raw('create index jobs_finished on jobs (finished_at) where finished_at is not null');
  await knex.raw('drop index if exists jobs_lattice_id_index');
  await knex.raw('create index jobs_lattice_id_index on jobs (lattice_id) where lattice_id is not null');
  await knex.raw('drop index if exists jobs_lattice_version_id_index');
  await knex.raw('create index jobs_lattice_version_id_index on jobs (lattice_version_id) where lattice_version_id is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists jobs_status_updated');
  await knex.raw('create index jobs_status_updated on jobs (status, updated_at)');
  await knex.raw('drop index if exists jobs_finished');
  await knex.raw('create index jobs_finished on jobs (finished_at)');
  await knex.raw('drop index if exists jobs_lattice_id_index');
  await knex.raw('create index jobs_lattice_id_index on jobs (lattice_id)');
  await knex.raw('drop index if exists jobs_lattice_version_id_index');
  await knex.raw('create index jobs_lattice_version_id_index on jobs (lattice_version_id)');
}
