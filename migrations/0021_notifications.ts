// Notifications: an outbox of events owners are mailed about (a plan request decided, a webhook
// endpoint disabled, a quota past 80% or 100%). Each row is written once per event — by the
// transaction that makes it, or by the scheduler's quota check — under a key unique per tenant, so
// any number of processes may record the same event and one row results; the scheduler then mails
// it and marks it dispatched (docs/architecture.md › Notifications). Users keep their choices in
// `users.notification_settings`; a sign-up asking for a paid plan keeps it in
// `tenants.requested_plan_code` until the owner's address is confirmed.
import type { Knex } from 'knex';
import { APP_ROLE } from '../shared/db.ts';

/** Tenant tables this migration adds (the isolation tests check each). */
export const TENANT_TABLES_0021: ReadonlyArray<readonly [table: string, column: string]> = [['notifications', 'tenant_id']];

const CURRENT_TENANT = `nullif(current_setting('app.tenant_id', true), '')::uuid`;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notifications', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.text('kind').notNullable();
    // What makes the event one: `plan_request:<id>`, `webhook:<id>:<failing since>`, `quota:<name>:<month>:<percent>`.
    t.text('key').notNullable();
    t.jsonb('params').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('dispatched_at', { useTz: true });
    t.integer('recipients');
    t.check(`kind in ('plan_request_decided', 'webhook_disabled', 'quota_warning')`, [], 'notifications_kind_valid');
    t.unique(['tenant_id', 'key'], { indexName: 'notifications_event_unique' });
  });
  await knex.raw('create index notifications_undispatched on notifications (created_at) where dispatched_at is null');
  await knex.raw(`grant select, insert, update, delete on notifications to ${APP_ROLE}`);
  await knex.raw('alter table notifications enable row level security');
  await knex.raw(
    `create policy notifications_tenant_isolation on notifications using (tenant_id = ${CURRENT_TENANT}) with check (tenant_id = ${CURRENT_TENANT})`,
  );
  await knex.schema.alterTable('users', (t) => {
    // Only the choices a user made; the rest follow the defaults (on for owners).
    t.jsonb('notification_settings').notNullable().defaultTo('{}');
  });
  await knex.schema.alterTable('tenants', (t) => {
    t.text('requested_plan_code');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tenants', (t) => {
    t.dropColumn('requested_plan_code');
  });
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('notification_settings');
  });
  await knex.schema.dropTableIfExists('notifications');
}
