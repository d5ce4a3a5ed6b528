// `job_results` loses its index on (tenant_id, created_at) (docs/performance.md › Batches): every
// stored result wrote an entry in it, and no statement reads results by tenant or by time. Reads
// go through the job (`job_results.job_id`, its primary key); a job's deletion takes its result
// with it by that key (migration 0029), a tenant's through its jobs; row-level security filters
// on `tenant_id` after the key lookup, as it did.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists job_results_tenant_id_created_at_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('create index if not exists job_results_tenant_id_created_at_index on job_results (tenant_id, created_at)');
}
