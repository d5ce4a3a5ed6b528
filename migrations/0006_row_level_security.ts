// Row-level security on every tenant table, keyed on the transaction setting `app.tenant_id`, and
// the application role that is subject to it. Roles are cluster-wide: the role is created once and
// shared by every database of the cluster; `down` drops it only when nothing else uses it.
import type { Knex } from 'knex';
import { APP_ROLE, CREATE_APP_ROLE_SQL } from '../shared/db.ts';

/** Tenant tables and the column holding their tenant. */
export const TENANT_TABLES: ReadonlyArray<readonly [table: string, column: string]> = [
  ['tenants', 'id'],
  ['users', 'tenant_id'],
  ['api_keys', 'tenant_id'],
  ['refresh_tokens', 'tenant_id'],
  ['audit_log', 'tenant_id'],
  ['lattices', 'tenant_id'],
  ['jobs', 'tenant_id'],
  ['job_results', 'tenant_id'],
  ['idempotency_keys', 'tenant_id'],
  ['webhooks', 'tenant_id'],
  ['webhook_deliveries', 'tenant_id'],
  ['usage_counters', 'tenant_id'],
];

const CURRENT_TENANT = `nullif(current_setting('app.tenant_id', true), '')::uuid`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(CREATE_APP_ROLE_SQL);
  await knex.raw(`grant usage on schema public to ${APP_ROLE}`);
  await knex.raw(`grant select on plans to ${APP_ROLE}`);
  for (const [table, column] of TENANT_TABLES) {
    await knex.raw(`grant select, insert, update, delete on ${table} to ${APP_ROLE}`);
    await knex.raw(`alter table ${table} enable row level security`);
    await knex.raw(
      `create policy ${table}_tenant_isolation on ${table} using (${column} = ${CURRENT_TENANT}) with check (${column} = ${CURRENT_TENANT})`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [table] of [...TENANT_TABLES].reverse()) {
    await knex.raw(`drop policy if exists ${table}_tenant_isolation on ${table}`);
    await knex.raw(`alter table ${table} disable row level security`);
    await knex.raw(`revoke all on ${table} from ${APP_ROLE}`);
  }
  await knex.raw(`revoke all on plans from ${APP_ROLE}`);
  await knex.raw(`revoke usage on schema public from ${APP_ROLE}`);
  await knex.raw(`
    do $$ begin
      drop role if exists ${APP_ROLE};
    exception when dependent_objects_still_exist then null;
    end $$`);
}
