/**
 * A tenant's monthly usage of one metric added to and read in one round trip as the tenant
 * (shared/usage-month-statements.ts), and the API's call metering that writes through it.
 */
import { randomInt } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb, type Db, executeAsTenant, sql } from '../../shared/db.ts';
import { ADD_AND_TOTAL, addUsageMonthTotal, MONTH_TOTAL, usageMonthTotal } from '../../shared/usage-month-statements.ts';
import { usageDay } from '../../shared/usage.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
const api = useTestApi(env, { USAGE_FLUSH_MS: '60000' });

/** Eight pooled connections, so concurrent writes really overlap in PostgreSQL. */
let pool: Db;

beforeAll(() => {
  pool = createDb({ url: env.env.DATABASE_URL as string, poolMax: 8 });
});

afterAll(async () => {
  await pool?.destroy();
});

// A month away from any month edge: the 20th, its 3rd, and a day of the month before.
const DAY = '2026-05-20';
const EARLIER = '2026-05-03';
const LAST_MONTH = '2026-04-29';
const NEXT_MONTH = '2026-06-01';

async function stored(tenantId: string, metric: string, day: string): Promise<number> {
  const row = (await env.db('usage_counters').where({ tenant_id: tenantId, metric, day }).first('value')) as { value: string } | undefined;
  return Number(row?.value ?? 0);
}

async function seed(tenantId: string, metric: string, day: string, value: number): Promise<void> {
  await env.db('usage_counters').insert({ tenant_id: tenantId, day, metric, value });
}

describe('addUsageMonthTotal', () => {
  it('adds concurrent amounts exactly, each total the month so far in commit order, other days, months, metrics and tenants apart', async () => {
    for (let round = 0; round < 3; round++) {
      const tenant = await createTestTenant(env.db);
      const other = await createTestTenant(env.db);
      const base = randomInt(0, 1000);
      await seed(tenant.tenantId, 'api_calls', EARLIER, base);
      await seed(tenant.tenantId, 'api_calls', LAST_MONTH, randomInt(1, 1000));
      await seed(tenant.tenantId, 'api_calls', NEXT_MONTH, randomInt(1, 1000));
      await seed(tenant.tenantId, 'compute_cells', DAY, randomInt(1, 1000));
      await seed(other.tenantId, 'api_calls', DAY, randomInt(1, 1000));
      const otherBefore = await stored(other.tenantId, 'api_calls', DAY);
      const amounts = Array.from({ length: 30 }, () => randomInt(1, 50));
      const totals = await Promise.all(amounts.map((amount) => addUsageMonthTotal(pool, tenant.tenantId, 'api_calls', amount, DAY)));
      const sum = amounts.reduce((a, b) => a + b, 0);
      expect(await stored(tenant.tenantId, 'api_calls', DAY)).toBe(sum);
      // Each write saw the ones committed before it: the totals climb by exactly the amounts.
      const sorted = [...totals].sort((a, b) => a - b);
      expect(sorted.at(-1)).toBe(base + sum);
      const steps = sorted.map((total, i) => total - (i === 0 ? base : (sorted[i - 1] as number)));
      expect(steps.sort((a, b) => a - b)).toEqual([...amounts].sort((a, b) => a - b));
      expect(await stored(other.tenantId, 'api_calls', DAY)).toBe(otherBefore);
      expect(await usageMonthTotal(pool, tenant.tenantId, 'api_calls', DAY)).toBe(base + sum);
      expect(await usageMonthTotal(pool, tenant.tenantId, 'api_calls', EARLIER)).toBe(base);
      expect(await usageMonthTotal(pool, other.tenantId, 'api_calls', DAY)).toBe(otherBefore);
    }
  });

  it('runs as the tenant: another tenant’s counter can be neither written nor read', async () => {
    const a = await createTestTenant(env.db);
    const b = await createTestTenant(env.db);
    await seed(b.tenantId, 'api_calls', DAY, 17);
    await expect(
      executeAsTenant(pool, a.tenantId, ADD_AND_TOTAL, [sql`${b.tenantId}`, sql`${DAY}`, sql`${'api_calls'}`, sql`${5}`, sql`${'2026-05-01'}`]),
    ).rejects.toThrow(/row-level security/);
    expect(await stored(b.tenantId, 'api_calls', DAY)).toBe(17);
    const seen = await executeAsTenant<{ total: number }>(pool, a.tenantId, MONTH_TOTAL, [sql`${b.tenantId}`, sql`${'api_calls'}`, sql`${'2026-05-01'}`, sql`${DAY}`]);
    expect(seen).toEqual([{ total: 0 }]);
    expect(await usageMonthTotal(pool, b.tenantId, 'api_calls', DAY)).toBe(17);
  });
});

describe('the API’s call metering', () => {
  it('writes a flush in one query string behind the role and tenant switch, no transaction of its own', async () => {
    const tenant = await createTestTenant(env.db, { scopes: ['webhooks:read'] });
    const calls = randomInt(2, 9);
    for (let i = 0; i < calls; i++) expect((await api.request('/api/webhooks', { headers: tenant.headers })).status).toBe(200);
    const query = vi.spyOn(pg.Client.prototype, 'query');
    let sent: string[];
    try {
      await api.deps.identity.quota.flush(tenant.tenantId);
      sent = query.mock.calls.map(([text]) => (typeof text === 'string' ? text : String((text as { text?: unknown }).text)));
    } finally {
      query.mockRestore();
    }
    // What the flush sent (the test API's background reads of other tables aside).
    const writes = sent.filter((text) => !text.startsWith('prepare ') && /usage|^begin|^commit/i.test(text));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^select set_config\('role', 'catalytic_app', true\), set_config\('app\.tenant_id', '[0-9a-f-]{36}', true\).*; execute "catalytic_usage_add_month_total_v1"\(/s);
    expect(writes[0]).toContain(tenant.tenantId);
    expect(await stored(tenant.tenantId, 'api_calls', usageDay())).toBe(calls);
  });

  it('reads a tenant’s month before its first call: the month’s calls count, last month’s do not', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'free', scopes: ['webhooks:read'] });
    const { api_calls_per_month: limit } = (await env.db('plans').where({ code: 'free' }).first('api_calls_per_month')) as { api_calls_per_month: number };
    expect(limit).toBeGreaterThan(1);
    const today = usageDay();
    const lastMonth = usageDay(new Date(Date.parse(`${today.slice(0, 7)}-01T00:00:00Z`) - 24 * 3600 * 1000));
    // One call left this month; last month's calls would spend it.
    await seed(tenant.tenantId, 'api_calls', today, limit - 1);
    await seed(tenant.tenantId, 'api_calls', lastMonth, limit);
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) statuses.push((await api.request('/api/webhooks', { headers: tenant.headers })).status);
    expect(statuses).toEqual([200, 429]);
  });
});
