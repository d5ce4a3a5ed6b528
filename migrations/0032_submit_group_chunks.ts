// Chunks of single submissions (docs/architecture.md › Submit groups): concurrent `POST /api/jobs`
// of one tenant written by one statement share one queue entry, run by the batch chunk path. Such a
// chunk belongs to no batch, so its `job_chunks` row has no `batch_id`; retention deletes these
// rows once they are old (scheduler/retention.ts), as a batch's go with their batch.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table job_chunks alter column batch_id drop not null');
  await knex.raw('create index job_chunks_submit_groups on job_chunks (started_at) where batch_id is null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists job_chunks_submit_groups');
  await knex.raw('delete from job_chunks where batch_id is null');
  await knex.raw('alter table job_chunks alter column batch_id set not null');
}
