import { describe, expect, it } from 'vitest';
import { createApiDeps } from '../../api/deps.ts';
import { ApiServer } from '../../api/server.ts';
import { usageDay } from '../../shared/usage.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
// Two API processes writing their counts every 100 ms.
const one = useTestApi(env, { USAGE_FLUSH_MS: '100' });
const two = useTestApi(env, { USAGE_FLUSH_MS: '100' });

async function storedCalls(tenantId: string): Promise<number> {
  const [row] = (await env.db('usage_counters').where({ tenant_id: tenantId, metric: 'api_calls' }).sum('value as n')) as [{ n: string | null }];
  return Number(row.n ?? 0);
}

const get = async (server: typeof one, headers: Record<string, string>) => {
  const res = await server.request('/api/webhooks', { headers });
  await res.arrayBuffer();
  return res.status;
};

describe('API-call metering without a write per request', () => {
  it('shares the monthly quota between processes within a flush, counting only what it accepts', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'free' });
    await env.db('usage_counters').insert({ tenant_id: tenant.tenantId, day: usageDay(), metric: 'api_calls', value: 990 });
    for (let i = 0; i < 5; i++) expect(await get(one, tenant.headers)).toBe(200);
    for (let i = 0; i < 5; i++) expect(await get(two, tenant.headers)).toBe(200);
    await expect.poll(() => storedCalls(tenant.tenantId), { timeout: 5_000, interval: 50 }).toBe(1000);
    // A process learns the other's calls from its own next write, so each may accept what comes
    // in before that write (here one call each), and refuses once it has written.
    const late = [await get(one, tenant.headers), await get(two, tenant.headers)];
    await Promise.all([one.deps.identity.quota.flush(), two.deps.identity.quota.flush()]);
    expect([await get(one, tenant.headers), await get(two, tenant.headers)]).toEqual([429, 429]);
    const accepted = (await storedCalls(tenant.tenantId)) - 1000;
    expect(accepted).toBe(late.filter((s) => s === 200).length);
    expect(accepted).toBeLessThanOrEqual(2);
    // Refused calls are never written.
    for (let i = 0; i < 5; i++) expect(await get(one, tenant.headers)).toBe(429);
    await one.deps.identity.quota.flush();
    expect(await storedCalls(tenant.tenantId)).toBe(1000 + accepted);
  });

  it('includes this process’s unwritten calls in GET /api/usage', async () => {
    const tenant = await createTestTenant(env.db, { scopes: ['usage:read', 'webhooks:read'] });
    const slow = new ApiServer(createApiDeps(env.runtime({ USAGE_FLUSH_MS: '60000' })));
    await slow.start();
    try {
      const url = `http://127.0.0.1:${slow.port}`;
      for (let i = 0; i < 3; i++) expect((await fetch(`${url}/api/webhooks`, { headers: tenant.headers })).status).toBe(200);
      expect(await storedCalls(tenant.tenantId)).toBe(0);
      const usage = (await (await fetch(`${url}/api/usage`, { headers: tenant.headers })).json()) as { month: { totals: { api_calls: number } } };
      expect(usage.month.totals.api_calls).toBe(4);
      expect(await storedCalls(tenant.tenantId)).toBe(4);
    } finally {
      await slow.close();
    }
  });

  it('writes pending calls when the API shuts down', async () => {
    const tenant = await createTestTenant(env.db, { scopes: ['webhooks:read'] });
    const slow = new ApiServer(createApiDeps(env.runtime({ USAGE_FLUSH_MS: '60000' })));
    await slow.start();
    const url = `http://127.0.0.1:${slow.port}`;
    for (let i = 0; i < 7; i++) expect((await fetch(`${url}/api/webhooks`, { headers: tenant.headers })).status).toBe(200);
    expect(await storedCalls(tenant.tenantId)).toBe(0);
    await slow.close();
    expect(await storedCalls(tenant.tenantId)).toBe(7);
  });
});
