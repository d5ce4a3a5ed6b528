// The batch counter on `jobs` (migration 0016, a statement trigger with transition tables) runs
// after every update of the table: a worker's start of a job, its heartbeat, its progress, its
// final write. Only a statement that moves a job of a batch to a final state has anything to
// count; every other one now returns before the counting query, whose plan is a chain of
// CTEs (the batch update, the event, the deliveries) that cost a start ~0.2 ms of PostgreSQL
// time inside the job's `run_ms` (docs/performance.md › Run time through the API: the split).
import type { Knex } from 'knex';

const HEAD = `create or replace function catalytic_count_batch_finishes() returns trigger
    language plpgsql set search_path = pg_catalog, public as $$
    declare
      ids text;
    begin
`;

const COUNT = `      with ended as (
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
    end $$`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`${HEAD}      if not exists (select 1 from new_rows n where n.batch_id is not null and n.status in ('completed', 'failed', 'cancelled')) then
        return null;
      end if;
${COUNT}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`${HEAD}${COUNT}`);
}
