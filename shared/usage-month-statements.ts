/**
 * A tenant's monthly usage of one metric read, or added to and read, in ONE round trip as the
 * tenant (`executeAsTenant`: the role and tenant switch and a prepared statement in one query
 * string, row-level security in force). The API's call metering (api/middleware/api-quota.ts) wrote
 * its counts in a `withTenant` transaction — BEGIN, the switch, the upsert, COMMIT: four round
 * trips holding a pooled connection, and the day's counter row locked, across three waits for the
 * API's event loop. See docs/performance.md › Mixed load: the API's call counts in one round trip.
 */
import { type Db, executeAsTenant, type PreparedStatement, sql } from './db.ts';
import { monthStart, usageDay } from './usage.ts';

/**
 * Adds $4 to lane 0 of the tenant's ($1) counter $3 on day $2 and returns the month's total to
 * that day: every other row of the month (from $5, the month's first; other days and the day's
 * other lanes, see USAGE_LANES) plus the lane's new value. The sum reads the statement's
 * snapshot, which does not hold the upsert's row, and leaves that row out, so it is counted once.
 */
export const ADD_AND_TOTAL: PreparedStatement = {
  name: 'catalytic_usage_add_month_total_v1',
  params: ['uuid', 'date', 'text', 'bigint', 'date'],
  text: `with added as (
      insert into usage_counters (tenant_id, day, metric, lane, value) values ($1, $2, $3, 0, $4)
      on conflict (tenant_id, day, metric, lane) do update set value = usage_counters.value + excluded.value, updated_at = now()
      returning value)
    select ((select value from added) + coalesce(
      (select sum(value) from usage_counters where tenant_id = $1 and metric = $3 and day >= $5 and day <= $2 and not (day = $2 and lane = 0)), 0))::float8 as total`,
};

/** The tenant's ($1) counter $2 summed from $3 to $4 (inclusive), every lane. */
export const MONTH_TOTAL: PreparedStatement = {
  name: 'catalytic_usage_month_total_v1',
  params: ['uuid', 'text', 'date', 'date'],
  text: `select coalesce(sum(value), 0)::float8 as total from usage_counters where tenant_id = $1 and metric = $2 and day >= $3 and day <= $4`,
};

/**
 * Adds `amount` to the tenant's `metric` on `day` and returns the month's total to that day, in
 * one round trip as the tenant; the addition commits with it or not at all.
 */
export async function addUsageMonthTotal(db: Db, tenantId: string, metric: string, amount: number, day: string = usageDay()): Promise<number> {
  const rows = await executeAsTenant<{ total: number }>(db, tenantId, ADD_AND_TOTAL, [
    sql`${tenantId}`,
    sql`${day}`,
    sql`${metric}`,
    sql`${amount}`,
    sql`${monthStart(day)}`,
  ]);
  const total = rows[0]?.total;
  if (typeof total !== 'number') throw new Error('a usage write returned no total');
  return total;
}

/** The tenant's `metric` over the month holding `day`, up to and including `day`, in one round trip as the tenant. */
export async function usageMonthTotal(db: Db, tenantId: string, metric: string, day: string = usageDay()): Promise<number> {
  const rows = await executeAsTenant<{ total: number }>(db, tenantId, MONTH_TOTAL, [sql`${tenantId}`, sql`${metric}`, sql`${monthStart(day)}`, sql`${day}`]);
  return rows[0]?.total ?? 0;
}
