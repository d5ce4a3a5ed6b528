// The `batch.completed` event's counts are read by a statement of their own, after the batch's
// row lock is taken. Read inside the statement that lowers the batch's count (migrations 0016,
// 0031), they came from that statement's snapshot, taken before it waited for the lock: when two
// writers end a batch's last jobs at once, the second waits for the first's commit, then takes the
// count to zero, and its event missed the first writer's jobs (counts summing to less than the
// batch's total). A plpgsql statement takes a fresh snapshot, so the second statement sees them.
// `completed_at` is the clock's, not the transaction's start, for the same reason.
import type { Knex } from 'knex';
import { up as countEarlyExit } from './0031_batch_count_early_exit.ts';

const FINAL = `('completed', 'failed', 'cancelled')`;

const COUNT_FINISHES = `create or replace function catalytic_count_batch_finishes() returns trigger
    language plpgsql set search_path = pg_catalog, public as $$
    declare
      ids text;
      ended_batches uuid[];
    begin
      if not exists (select 1 from new_rows n where n.batch_id is not null and n.status in ${FINAL}) then
        return null;
      end if;
      with ended as (
        select n.batch_id, count(*)::int as k
          from new_rows n join old_rows o on o.id = n.id
         where n.batch_id is not null
           and o.status in ('queued', 'running')
           and n.status in ${FINAL}
         group by n.batch_id
      ), done as (
        update batches b
           set unfinished = b.unfinished - e.k,
               completed_at = case when b.unfinished = e.k then clock_timestamp() else b.completed_at end,
               updated_at = now()
          from ended e
         where b.id = e.batch_id
        returning b.id, b.unfinished
      )
      select array_agg(d.id) into ended_batches from done d where d.unfinished = 0;
      if ended_batches is null then
        return null;
      end if;
      with event as (
        select d.*, 'evt_' || replace(gen_random_uuid()::text, '-', '') as event_id,
               (select jsonb_object_agg(s.status, s.n) from (
                  select j.status, count(*) as n from jobs j where j.batch_id = d.id group by j.status) s) as counts
          from batches d where d.id = any(ended_batches)
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
    end $$`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(COUNT_FINISHES);
}

export async function down(knex: Knex): Promise<void> {
  await countEarlyExit(knex);
}
