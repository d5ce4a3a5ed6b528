// Lattices (specs, never materialised), jobs, their results and request idempotency records.
import type { Knex } from 'knex';

export const JOB_TYPES = ['shortest_path', 'components', 'diffusion'] as const;
export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lattices', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.text('name');
    t.jsonb('spec').notNullable();
    t.integer('dimensions').notNullable();
    t.bigInteger('cells').notNullable();
    t.timestamps(true, true, false);
    t.index(['tenant_id', 'created_at']);
  });

  await knex.schema.createTable('jobs', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    // The job keeps its own copy of the spec, so editing or deleting the lattice cannot change it.
    t.uuid('lattice_id').references('lattices.id').onDelete('SET NULL');
    t.text('type').notNullable();
    t.text('status').notNullable().defaultTo('queued');
    t.jsonb('lattice').notNullable();
    t.jsonb('params').notNullable().defaultTo('{}');
    t.bigInteger('cells').notNullable();
    t.float('progress').notNullable().defaultTo(0);
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('max_attempts').notNullable().defaultTo(3);
    t.text('idempotency_key');
    t.text('request_hash');
    t.jsonb('error');
    t.text('worker_id');
    t.timestamp('cancel_requested_at', { useTz: true });
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.integer('queue_wait_ms');
    t.integer('run_ms');
    t.timestamps(true, true, false);
    t.check(`type in (${list(JOB_TYPES)})`, [], 'jobs_type_valid');
    t.check(`status in (${list(JOB_STATUSES)})`, [], 'jobs_status_valid');
    t.check('progress >= 0 and progress <= 1', [], 'jobs_progress_range');
    t.index(['tenant_id', 'created_at', 'id'], 'jobs_tenant_created');
    t.index(['tenant_id', 'status', 'created_at'], 'jobs_tenant_status');
    t.index(['status', 'updated_at'], 'jobs_status_updated');
    t.index(['finished_at'], 'jobs_finished');
    t.index(['lattice_id']);
  });
  await knex.raw(
    'create unique index jobs_idempotency_unique on jobs (tenant_id, idempotency_key) where idempotency_key is not null',
  );

  await knex.schema.createTable('job_results', (t) => {
    // One row per job at most: the primary key makes a second result impossible.
    t.uuid('job_id').primary().references('jobs.id').onDelete('CASCADE');
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.jsonb('result').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['tenant_id', 'created_at']);
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.text('key').notNullable();
    t.text('method').notNullable();
    t.text('path').notNullable();
    t.text('request_hash').notNullable();
    t.integer('response_status');
    t.jsonb('response_body');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'key']);
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
  await knex.schema.dropTable('job_results');
  await knex.schema.dropTable('jobs');
  await knex.schema.dropTable('lattices');
}
