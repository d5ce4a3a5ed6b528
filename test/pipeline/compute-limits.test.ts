/**
 * Compute units in the plans (shared/compute-units.ts), over real HTTP and PostgreSQL: a job that
 * costs more than its plan allows per job is refused with 402 naming the limit and a plan that
 * allows it (diffusion steps and constant sources both count); the monthly units hold exactly
 * under concurrent submissions; what was charged shows in `GET /api/usage`. Refusals write nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { computeUnits } from '../../shared/compute-units.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { json } from './support.ts';

const MONTHLY = 2_500;
const env = useTestEnvironment();
const api = useTestApi(env);

beforeAll(async () => {
  // Before the first request: the API caches plan rows for a few seconds.
  await env.db('plans').where({ code: 'starter' }).update({ compute_units_per_month: MONTHLY, jobs_per_month: -1 });
});

async function charged(tenantId: string): Promise<number> {
  const row = await env.db('usage_counters').where({ tenant_id: tenantId, metric: 'compute_units' }).sum('value as n').first();
  return Number((row as { n: string | null } | undefined)?.n ?? 0);
}

const diffusion = (shape: number[], steps: number, sources = 0) => ({
  type: 'diffusion',
  lattice: { shape },
  params: { steps, alpha: 0.1, sources: Array.from({ length: sources }, (_, i) => ({ cell: [i % shape[0]!, 0], value: 1 })) },
});

describe('compute units', () => {
  it('count cells for one-pass kernels, and cells and sources every step for diffusion', () => {
    expect(computeUnits('components', 1_000, {})).toBe(1_000);
    expect(computeUnits('shortest_path', 400, { start: [0, 0], end: [1, 1] })).toBe(400);
    expect(computeUnits('diffusion', 100, { steps: 50, sources: [{}, {}], initial: [{}] })).toBe(100 * 50 + 2 * 50 + 1);
    expect(computeUnits('diffusion', 100, { steps: 0, sources: [], initial: [] })).toBe(100);
    expect(computeUnits('distance_field', 400, { face: { axis: 0, side: 'low' } }, 2)).toBe(400);
    expect(computeUnits('min_cost_path', 400, { connectivity: 'full' }, 2)).toBe(800);
    expect(computeUnits('distance_field', 1_000, { connectivity: 'full' }, 3)).toBe(1_000 * 5);
    expect(computeUnits('components', 1_000, { connectivity: 'full' }, 3)).toBe(1_000 * 5);
    expect(computeUnits('shortest_path', 400, { start: [0, 0], end: [1, 1], connectivity: 'full' }, 2)).toBe(800);
    expect(computeUnits('shortest_path', 400, { pairs: [{ start: [0, 0] }, { start: [1, 1] }], connectivity: 'full' }, 2)).toBe(1_600);
  });

  it('refuse a free job over the per-job limit with 402, naming the limit and a plan that allows it', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'free' });
    // 1,000 cells × 1,000,000 steps: the free plan's cells, the engine's most steps.
    const burn = await api.request('/api/jobs', { body: diffusion([10, 10, 10], 1_000_000), headers: tenant.headers });
    expect(burn.status).toBe(402);
    expect(await json(burn)).toMatchObject({
      code: 'plan_limit_exceeded',
      limit: 'max_compute_units_per_job',
      limit_value: 1_000_000,
      value: 1_000_000_000,
      plan: 'free',
      upgrade_plan: 'starter',
    });
    // Sources are applied every step: 100 cells × 5,000 steps fits, with 200 sources it does not.
    expect((await api.request('/api/jobs', { body: diffusion([10, 10], 5_000), headers: tenant.headers })).status).toBe(202);
    const sourced = await api.request('/api/jobs', { body: diffusion([10, 10], 5_000, 200), headers: tenant.headers });
    expect(sourced.status).toBe(402);
    expect(await json(sourced)).toMatchObject({ limit: 'max_compute_units_per_job', value: 100 * 5_000 + 200 * 5_000 });

    // Only the accepted job was written and charged.
    expect(await env.db('jobs').where({ tenant_id: tenant.tenantId })).toHaveLength(1);
    expect(await charged(tenant.tenantId)).toBe(500_000);
  });

  it('hold the monthly units exactly under concurrent submissions, and show them in usage', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'starter' });
    const job = { type: 'components', lattice: { shape: [25, 40] } }; // 1,000 units
    const responses = await Promise.all(Array.from({ length: 6 }, () => api.request('/api/jobs', { body: job, headers: tenant.headers })));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 202, 429, 429, 429, 429]);
    for (const refused of responses.filter((r) => r.status === 429)) {
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await json(refused)).toMatchObject({
        code: 'quota_exceeded',
        limit: 'compute_units_per_month',
        limit_value: MONTHLY,
        used: 2_000,
        value: 1_000,
        upgrade_plan: 'professional',
      });
    }
    // A smaller job still fits in what is left.
    const small = await api.request('/api/jobs', { body: { type: 'components', lattice: { shape: [10, 50] } }, headers: tenant.headers });
    expect(small.status).toBe(202);
    expect(await env.db('jobs').where({ tenant_id: tenant.tenantId })).toHaveLength(3);
    expect(await charged(tenant.tenantId)).toBe(2_500);

    const usage = await json<{ month: { quotas: { compute_units: unknown } } }>(await api.request('/api/usage', { headers: tenant.headers }));
    expect(usage.month.quotas.compute_units).toEqual({ used: 2_500, limit: MONTHLY, remaining: 0 });
  });

  it('publish the compute limits with the plans', async () => {
    const { data } = await json<{ data: Array<{ code: string; max_compute_units_per_job: number; compute_units_per_month: number }> }>(
      await api.request('/api/plans'),
    );
    const free = data.find((p) => p.code === 'free');
    expect(free).toMatchObject({ max_compute_units_per_job: 1_000_000, compute_units_per_month: 100_000_000 });
    expect(data.find((p) => p.code === 'enterprise')).toMatchObject({ max_compute_units_per_job: -1, compute_units_per_month: -1 });
  });
});
