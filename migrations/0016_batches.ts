// Batches: many jobs submitted in one request, followed as one object. A batch counts its
// unfinished jobs; a statement-level trigger on `jobs` lowers the count as jobs reach a final state
// (whoever writes it: a worker, a cancel, reconcile), and the statement that takes it to zero
// records the `batch.completed` webhook deliveries — in the transaction of the last job's final
// state, so the event is written exactly once. The ids of those deliveries are left in the
// transaction setting `catalytic.batch_deliveries` for the writer to dispatch after commit.
//
// A job of a batch may share its queue entry with others (`queue_entry`, a chunk's BullMQ id):
// see docs/architecture.md › Batches.
import type { Knex } from 'knex';
import { APP_ROLE } from '../shared/db.ts';

/** Tenant tables this migration adds (the isolation tests check each). */
export const TENANT_TABLES_0016: ReadonlyArray<readonly [table: string, column: string]> = [['batches', 'tenant_id']];

const CURRENT_TENANT = `nullif(current_setting('app.tenant_id', true), '')::uuid`;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('batches', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.integer('total').notNullable();
    t.integer('unfinished').notNullable();
    t.jsonb('labels').notNullable().defaultTo('{}');
    t.text('idempotency_key');
    t.text('request_hash');
    t.timestamp('completed_at', { useTz: true });
    t.timestamps(true, true, false);
    t.check('unfinished >= 0 and unfinished <= total', [], 'batches_unfinished_range');
    t.index(['tenant_id', 'created_at', 'id'], 'batches_tenant_created');
  });
  await knex.raw('create unique index batches_idempotency_unique on batches (tenant_id, idempotency_key) where idempotency_key is not null');
  await knex.raw(`grant select, insert, update, delete on batches to ${APP_ROLE}`);
  await knex.raw('alter table batches enable row level security');
  await knex.raw(
    `create policy batches_tenant_isolation on batches using (tenant_id = ${CURRENT_TENANT}) with check (tenant_id = ${CURRENT_TENANT})`,
  );

  await knex.schema.alterTable('jobs', (t) => {
    t.uuid('batch_id').references('batches.id').onDelete('SET NULL');
    // The job's place in its batch's request (results are streamed in that order).
    t.integer('batch_index');
    // The BullMQ id of the chunk entry that carries this job; null when the job's own id is its entry.
    t.text('queue_entry');
  });
  await knex.raw('create unique index jobs_batch_index on jobs (batch_id, batch_index) where batch_id is not null');
  await knex.raw('alter table webhook_deliveries add column batch_id uuid references batches(id) on delete set null');

  await knex.raw(`
    create function catalytic_count_batch_finishes() returns trigger
    language plpgsql set search_path = pg_catalog, public as $$
    declare
      ids text;
    begin
      with ended as (
        select n.batch_id, count(*)::int as k
          from new_rows n join old_rows o on o.id = n.id
         where n.batch_id is not null
           and o.status in ('queued', 'running')
           and n.status in ('completed', 'failed', 'cancelled')
         group by n.batch_id
      ), done as (
        update batches b
           set unfinished = b.unfinished - e.k,
               completed_at = case when b.unfinished = e.k then now() else b.completed_at end,
               updated_at = now()
          from ended e
         where b.id = e.batch_id
        returning b.*
      ), event as (
        select d.*, 'evt_' || replace(gen_random_uuid()::text, '-', '') as event_id,
               (select jsonb_object_agg(s.status, s.n) from (
                  select j.status, count(*) as n from jobs j where j.batch_id = d.id group by j.status) s) as counts
          from done d where d.unfinished = 0
      ), inserted as (
        insert into webhook_deliveries (tenant_id, webhook_id, batch_id, event_id, event_type, payload, status, next_attempt_at)
        select e.tenant_id, w.id, e.id, e.event_id, 'batch.completed',
               jsonb_build_object('id', e.event_id, 'type', 'batch.completed',
                 'created_at', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                 'data', jsonb_build_object('batch', jsonb_build_object(
                   'id', e.id, 'total', e.total, 'labels', e.labels,
                   'counts', jsonb_build_object(
                     'completed', coalesce((e.counts->>'completed')::int, 0),
                     'failed', coalesce((e.counts->>'failed')::int, 0),
                     'cancelled', coalesce((e.counts->>'cancelled')::int, 0)),
                   'created_at', to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   'completed_at', to_char(e.completed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))),
               'pending', now()
          from event e
          join webhooks w on w.tenant_id = e.tenant_id and w.enabled and 'batch.completed' = any(w.events)
        returning id
      )
      select string_agg(id::text, ',') into ids from inserted;
      if ids is not null then
        perform set_config('catalytic.batch_deliveries',
          concat_ws(',', nullif(current_setting('catalytic.batch_deliveries', true), ''), ids), true);
      end if;
      return null;
    end $$`);
  await knex.raw(`
    create trigger jobs_count_batch_finishes after update on jobs
    referencing old table as old_rows new table as new_rows
    for each statement execute function catalytic_count_batch_finishes()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists jobs_count_batch_finishes on jobs');
  await knex.raw('drop function if exists catalytic_count_batch_finishes()');
  await knex.raw('alter table webhook_deliveries drop column if exists batch_id');
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('queue_entry');
    t.dropColumn('batch_index');
    t.dropColumn('batch_id');
  });
  await knex.raw('drop policy if exists batches_tenant_isolation on batches');
  await knex.schema.dropTable('batches');
}
