// A job submission in one round trip (api/jobs/submit-one-trip.ts): the monthly quotas of a
// write, decided inside the statement that inserts its jobs. SECURITY INVOKER (the default): it
// runs as the tenant role the caller switched to, so row-level security decides every row it reads.
// The locks and reads are api/jobs/submit-quota.ts's `jobsRoom` and `computeRoom`, step for step,
// with the same advisory-lock keys, so this and the batch path serialise against each other.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function submit_room(p_tenant uuid, p_day date, p_jobs_limit bigint, p_margin bigint, p_units_limit bigint, p_units bigint[])
    returns table (ord integer, fits boolean, used bigint, refused_by text)
    language plpgsql volatile as $$
    declare
      n integer := coalesce(array_length(p_units, 1), 0);
      month_start date := date_trunc('month', p_day)::date;
      jobs_used bigint := 0;
      units_used bigint := 0;
      room integer := n;
    begin
      if p_jobs_limit >= 0 and n > 0 then
        select coalesce(sum(value), 0) into jobs_used from usage_counters
          where tenant_id = p_tenant and day >= month_start and day <= p_day and starts_with(metric, 'jobs.');
        -- Near the limit, writes of a tenant take turns and read again (each statement of a
        -- volatile function sees what committed before it began).
        if jobs_used + n + p_margin >= p_jobs_limit then
          perform pg_advisory_xact_lock(hashtextextended('catalytic:jobs-quota:' || p_tenant::text, 0));
          select coalesce(sum(value), 0) into jobs_used from usage_counters
            where tenant_id = p_tenant and day >= month_start and day <= p_day and starts_with(metric, 'jobs.');
        end if;
        room := least(n, greatest(0, p_jobs_limit - jobs_used))::integer;
      end if;
      if p_units_limit >= 0 and room > 0 then
        perform pg_advisory_xact_lock(hashtextextended('catalytic:compute-quota:' || p_tenant::text, 0));
        select coalesce(sum(value), 0) into units_used from usage_counters
          where tenant_id = p_tenant and day >= month_start and day <= p_day and metric = 'compute_units';
      end if;
      for i in 1 .. n loop
        ord := i;
        if i > room then
          fits := false; used := jobs_used + room; refused_by := 'jobs_per_month';
        elsif p_units_limit >= 0 and units_used + p_units[i] > p_units_limit then
          fits := false; used := units_used; refused_by := 'compute_units_per_month';
        else
          fits := true; used := units_used; refused_by := null;
          units_used := units_used + p_units[i];
        end if;
        return next;
      end loop;
    end $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists submit_room(uuid, date, bigint, bigint, bigint, bigint[])');
}
