// Plans and their limits (-1 = unlimited). Values: docs/plans-and-limits.md › Plans and billing.
import type { Knex } from 'knex';

export const PLAN_SEED = [
  {
    code: 'free', name: 'Free', price_cents: 0, weight: 1, max_concurrent_jobs: 2, max_lattices: 5,
    max_dimensions: 3, max_side: 10, max_cells: 1_000, api_calls_per_month: 1_000, jobs_per_month: 500,
    requests_per_minute: 60, retention_days: 7, max_job_runtime_ms: 60_000,
  },
  {
    code: 'starter', name: 'Starter', price_cents: 2_999, weight: 2, max_concurrent_jobs: 4, max_lattices: 50,
    max_dimensions: 5, max_side: 50, max_cells: 10_000_000, api_calls_per_month: 10_000, jobs_per_month: 5_000,
    requests_per_minute: 300, retention_days: 30, max_job_runtime_ms: 5 * 60_000,
  },
  {
    code: 'professional', name: 'Professional', price_cents: 9_999, weight: 4, max_concurrent_jobs: 16, max_lattices: 500,
    max_dimensions: 10, max_side: 100, max_cells: 1_000_000_000, api_calls_per_month: 100_000, jobs_per_month: 50_000,
    requests_per_minute: 1_200, retention_days: 90, max_job_runtime_ms: 60 * 60_000,
  },
  {
    code: 'enterprise', name: 'Enterprise', price_cents: 49_999, weight: 8, max_concurrent_jobs: 64, max_lattices: -1,
    max_dimensions: -1, max_side: -1, max_cells: -1, api_calls_per_month: -1, jobs_per_month: -1,
    requests_per_minute: 6_000, retention_days: 365, max_job_runtime_ms: 6 * 60 * 60_000,
  },
] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('plans', (t) => {
    t.text('code').primary();
    t.text('name').notNullable();
    t.integer('price_cents').notNullable();
    t.integer('weight').notNullable();
    t.integer('max_concurrent_jobs').notNullable();
    t.integer('max_lattices').notNullable();
    t.integer('max_dimensions').notNullable();
    t.integer('max_side').notNullable();
    t.bigInteger('max_cells').notNullable();
    t.bigInteger('api_calls_per_month').notNullable();
    t.bigInteger('jobs_per_month').notNullable();
    t.integer('requests_per_minute').notNullable();
    t.integer('retention_days').notNullable();
    t.integer('max_job_runtime_ms').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('alter table plans add constraint plans_weight_positive check (weight > 0)');
  await knex('plans').insert(PLAN_SEED.map((plan) => ({ ...plan })));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('plans');
}
