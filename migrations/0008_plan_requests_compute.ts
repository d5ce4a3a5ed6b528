// Plan requests (an upgrade to a paid plan waits for a decision) and compute limits in the plans.
//
// `plan_requests` holds each tenant's requests to move to another plan; at most one is pending per
// tenant. It is a tenant table with the same row-level security as the others.
//
// Plans gain two compute limits (units per job and per month, -1 = unlimited), counted as in
// shared/compute-units.ts.
import type { Knex } from 'knex';
import { APP_ROLE } from '../shared/db.ts';

/** Tenant tables this migration adds, with the column holding their tenant. */
export const TENANT_TABLES_0008: ReadonlyArray<readonly [table: string, column: string]> = [['plan_requests', 'tenant_id']];

export const PLAN_REQUEST_STATUSES = ['pending', 'approved', 'rejected', 'cancelled'] as const;

/** Compute limits per plan (see shared/compute-units.ts for what a unit is). */
export const PLAN_COMPUTE_LIMITS: Readonly<Record<string, { max_compute_units_per_job: number; compute_units_per_month: number }>> = {
  // 1,000 cells × 1,000 steps per job; 100 such jobs a month.
  free: { max_compute_units_per_job: 1_000_000, compute_units_per_month: 100_000_000 },
  starter: { max_compute_units_per_job: 1_000_000_000, compute_units_per_month: 100_000_000_000 },
  professional: { max_compute_units_per_job: 100_000_000_000, compute_units_per_month: 10_000_000_000_000 },
  enterprise: { max_compute_units_per_job: -1, compute_units_per_month: -1 },
};

const CURRENT_TENANT = `nullif(current_setting('app.tenant_id', true), '')::uuid`;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('plans', (t) => {
    t.bigInteger('max_compute_units_per_job').notNullable().defaultTo(-1);
    t.bigInteger('compute_units_per_month').notNullable().defaultTo(-1);
  });
  for (const [code, limits] of Object.entries(PLAN_COMPUTE_LIMITS)) await knex('plans').where({ code }).update(limits);

  await knex.schema.createTable('plan_requests', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.text('from_plan').notNullable().references('plans.code');
    t.text('to_plan').notNullable().references('plans.code');
    t.text('status').notNullable().defaultTo('pending');
    t.uuid('requested_by').references('users.id').onDelete('SET NULL');
    /** Who decided: `operator:<name>`, `user:<id>` (a cancellation) or `system`. */
    t.text('decided_by');
    t.text('reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('decided_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check(`status in (${PLAN_REQUEST_STATUSES.map((s) => `'${s}'`).join(', ')})`, [], 'plan_requests_status_valid');
    t.check(`(status = 'pending') = (decided_at is null)`, [], 'plan_requests_decided_when_final');
    t.index(['tenant_id', 'created_at']);
    t.index(['status', 'created_at']);
  });
  await knex.raw(`create unique index plan_requests_one_pending on plan_requests (tenant_id) where status = 'pending'`);

  for (const [table, column] of TENANT_TABLES_0008) {
    await knex.raw(`grant select, insert, update, delete on ${table} to ${APP_ROLE}`);
    await knex.raw(`alter table ${table} enable row level security`);
    await knex.raw(
      `create policy ${table}_tenant_isolation on ${table} using (${column} = ${CURRENT_TENANT}) with check (${column} = ${CURRENT_TENANT})`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('plan_requests');
  await knex.schema.alterTable('plans', (t) => {
    t.dropColumn('max_compute_units_per_job');
    t.dropColumn('compute_units_per_month');
  });
}
