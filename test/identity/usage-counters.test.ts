import { describe, expect, it } from 'vitest';
import { addUsageMonthTotal, usageMonthTotal } from '../../shared/usage-month-statements.ts';
import { jobsMetric, monthlyTotals, monthStart, recordUsage, usageDay, usageSeries } from '../../shared/usage.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createApiKey, IDENTITY_TEST_ENV, registerTenant } from '../support/identity.ts';

const env = useTestEnvironment(IDENTITY_TEST_ENV);
const api = useTestApi(env);

const today = usageDay();
// A day of the previous month, whatever today is.
const lastMonth = usageDay(new Date(Date.parse(`${monthStart(today)}T00:00:00Z`) - 2 * 24 * 3600 * 1000));

async function apiCalls(tenantId: string): Promise<number> {
  const [{ n }] = (await env.db('usage_counters').where({ tenant_id: tenantId, metric: 'api_calls' }).sum('value as n')) as [{ n: string | null }];
  return Number(n ?? 0);
}

describe('usage counters', () => {
  it('adds up concurrent increments exactly and returns the day’s value', async () => {
    const { tenantId } = await registerTenant(api);
    const values = await Promise.all(Array.from({ length: 40 }, () => recordUsage(env.db, tenantId, jobsMetric('components'), 1)));
    expect([...values].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await recordUsage(env.db, tenantId, 'compute_cells', 1_000_000)).toBe(1_000_000);
    expect(await recordUsage(env.db, tenantId, 'compute_cells', 250)).toBe(1_000_250);
  });

  it('sums a month without the month before, and without other tenants', async () => {
    const a = await registerTenant(api);
    const b = await registerTenant(api);
    await recordUsage(env.db, a.tenantId, 'compute_cells', 7, today);
    await recordUsage(env.db, a.tenantId, 'compute_cells', 100, lastMonth);
    await recordUsage(env.db, b.tenantId, 'compute_cells', 1000, today);
    expect((await monthlyTotals(env.db, a.tenantId, today)).compute_cells).toBe(7);
    expect((await monthlyTotals(env.db, a.tenantId, today, { before: true })).compute_cells).toBeUndefined();
    expect(await usageSeries(env.db, a.tenantId, lastMonth, today)).toEqual(
      expect.arrayContaining([
        { day: lastMonth, metric: 'compute_cells', value: 100 },
        { day: today, metric: 'compute_cells', value: 7 },
      ]),
    );
  });

  it('sums a counter’s lanes wherever it is read', async () => {
    const { tenantId } = await registerTenant(api);
    const metric = jobsMetric('diffusion');
    for (const [lane, amount] of [[0, 1], [3, 20], [15, 300]] as const) await recordUsage(env.db, tenantId, metric, amount, today, lane);
    await recordUsage(env.db, tenantId, metric, 4000, lastMonth, 9);
    expect((await monthlyTotals(env.db, tenantId, today))[metric]).toBe(321);
    expect(await usageSeries(env.db, tenantId, lastMonth, today)).toEqual([
      { day: lastMonth, metric, value: 4000 },
      { day: today, metric, value: 321 },
    ]);
    expect(await usageMonthTotal(env.db, tenantId, metric, today)).toBe(321);
    // Adds to lane 0 and answers the month: the other lanes included, the lane's old value once.
    expect(await addUsageMonthTotal(env.db, tenantId, metric, 5, today)).toBe(326);
  });

  it('counts each authenticated API call, and nothing for public or refused-credential requests', async () => {
    const tenant = await registerTenant(api);
    // Calls are counted in memory and written once per USAGE_FLUSH_MS: write them before reading.
    await api.deps.identity.quota.flush();
    const start = await apiCalls(tenant.tenantId);
    for (let i = 0; i < 3; i++) expect((await api.request('/api/me', { headers: tenant.headers })).status).toBe(200);
    await api.request('/api/plans');
    await api.request('/api/me', { headers: { authorization: 'Bearer ck_abcdefgh_nottherightsecretnottherightsecret00' } });
    await api.deps.identity.quota.flush();
    expect(await apiCalls(tenant.tenantId)).toBe(start + 3);
  });

  it('writes counted calls by itself within the flush interval, one row per tenant and day', async () => {
    const tenant = await registerTenant(api);
    for (let i = 0; i < 5; i++) expect((await api.request('/api/me', { headers: tenant.headers })).status).toBe(200);
    // No explicit flush: the process's own timer (USAGE_FLUSH_MS, 1 s by default) writes them.
    await expect.poll(() => apiCalls(tenant.tenantId), { timeout: 10_000, interval: 100 }).toBe(5);
    expect(await env.db('usage_counters').where({ tenant_id: tenant.tenantId, metric: 'api_calls' }).count('* as n')).toEqual([{ n: 1 }]);
  });

  it('reports the series per day and the month against the plan', async () => {
    const tenant = await registerTenant(api, { plan: 'starter' });
    const key = await createApiKey(api, tenant.accessToken, { scopes: ['usage:read'] });
    await recordUsage(env.db, tenant.tenantId, jobsMetric('shortest_path'), 3, today);
    await recordUsage(env.db, tenant.tenantId, jobsMetric('diffusion'), 2, today);
    await recordUsage(env.db, tenant.tenantId, 'compute_cells', 5_000, today);
    await recordUsage(env.db, tenant.tenantId, jobsMetric('diffusion'), 40, lastMonth);
    // Storage is what the tenant's blobs hold now.
    await env.db('blobs').insert({ tenant_id: tenant.tenantId, kind: 'obstacle_map', media_type: 'application/octet-stream', backend: 'postgres', size: 4321 });
    await api.deps.identity.quota.flush();
    const calls = await apiCalls(tenant.tenantId);

    const res = await api.request(`/api/usage?from=${lastMonth}&to=${today}`, { headers: key.headers });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      from: string;
      to: string;
      days: Array<{ day: string; metrics: Record<string, number> }>;
      totals: Record<string, number>;
      month: { start: string; totals: Record<string, number>; quotas: Record<string, { used: number; limit: number; remaining: number | null }> };
    };
    expect(body.from).toBe(lastMonth);
    expect(body.to).toBe(today);
    expect(body.days[0]).toEqual({ day: lastMonth, metrics: { 'jobs.diffusion': 40 } });
    expect(body.days.at(-1)).toEqual({
      day: today,
      metrics: { api_calls: calls + 1, 'jobs.shortest_path': 3, 'jobs.diffusion': 2, compute_cells: 5_000 },
    });
    expect(body.days.length).toBe((Date.parse(today) - Date.parse(lastMonth)) / 86_400_000 + 1);
    expect(body.totals['jobs.diffusion']).toBe(42);
    expect(body.month.start).toBe(monthStart(today));
    expect(body.month.totals['jobs.diffusion']).toBe(2);
    expect(body.month.quotas).toEqual({
      api_calls: { used: calls + 1, limit: 10_000, remaining: 10_000 - calls - 1 },
      jobs: { used: 5, limit: 5_000, remaining: 4_995 },
      compute_units: { used: 0, limit: 100_000_000_000, remaining: 100_000_000_000 },
      storage_bytes: { used: 4321, limit: 2 ** 30, remaining: 2 ** 30 - 4321 },
    });

    // Without a range: this month so far.
    const month = (await (await api.request('/api/usage', { headers: key.headers })).json()) as { from: string; to: string };
    expect(month).toMatchObject({ from: monthStart(today), to: today });
  });

  it('shows an unlimited plan’s quotas as unlimited', async () => {
    const tenant = await registerTenant(api, { plan: 'enterprise' });
    const body = (await (await api.request('/api/usage', { headers: tenant.headers })).json()) as {
      month: { quotas: { api_calls: { limit: number; remaining: number | null } } };
    };
    expect(body.month.quotas.api_calls).toEqual({ used: 1, limit: -1, remaining: null });
  });
});
