/**
 * A diffusion whose heat-point lists alone cost more compute units than the plan allows per job
 * (sources × steps + initial) is refused with 402 before any schema walks its lists — so even a
 * body the schema would refuse elsewhere gets the 402 — while lists the schema refuses are still
 * its 400s, and jobs whose lists fit go on to the usual checks. These bounds and the one on
 * obstacle lists decide from the raw text, before the body is parsed: a body broken after a list
 * over the plan gets the 402, not the parser's 400.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_DIFFUSION_SOURCES, MAX_DIFFUSION_STEPS } from '../../shared/lattice/limits.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let free: TestTenant;

beforeAll(async () => {
  free = await createTestTenant(env.db, { plan: 'free' });
});

const sources = (n: number) => Array.from({ length: n }, (_, i) => ({ cell: [i % 10, Math.floor(i / 10) % 10, Math.floor(i / 100) % 10], value: 1 }));
const maximal = (alpha: number, n = MAX_DIFFUSION_SOURCES) => ({
  type: 'diffusion',
  lattice: { dimensions: 3, size: 10 },
  params: { steps: MAX_DIFFUSION_STEPS, alpha, sources: sources(n) },
});

describe('the bound on diffusion heat-point lists', () => {
  it('refuses lists that alone cost more than the plan allows per job with 402, before the schema looks at the rest', async () => {
    // alpha 0.9 is past the schema's 0.5: without the bound this is the schema's 400.
    const res = await api.request('/api/jobs', { body: maximal(0.9), headers: free.headers });
    expect(res.status).toBe(402);
    const problem = (await res.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({
      code: 'plan_limit_exceeded',
      limit: 'max_compute_units_per_job',
      limit_value: 1_000_000,
      value: MAX_DIFFUSION_SOURCES * MAX_DIFFUSION_STEPS,
      plan: 'free',
    });
    expect(problem.detail).toMatch(/^This job costs at least 10000000000 compute units/);
  });

  it('leaves lists the schema refuses to the schema, and lists that fit to the usual checks', async () => {
    const tooMany = await api.request('/api/jobs', { body: maximal(0.1, MAX_DIFFUSION_SOURCES + 1), headers: free.headers });
    expect(tooMany.status).toBe(400);
    // 100 sources × 1,000 steps fit the free plan's million units; 1,000 cells × 1,000 steps do not.
    const body = { type: 'diffusion', lattice: { dimensions: 3, size: 10 }, params: { steps: 1_000, alpha: 0.1, sources: sources(100) } };
    const res = await api.request('/api/jobs', { body, headers: free.headers });
    expect(res.status).toBe(402);
    expect(await res.json()).toMatchObject({ limit: 'max_compute_units_per_job', value: 1_000 * 1_000 + 100 * 1_000 });
  });

  it('refuses lists over the plan from the raw text, before the body is parsed', async () => {
    // Valid JSON up to the lists, then broken: a parser would stop there with invalid_json.
    const broken = (body: unknown) => `${JSON.stringify(body).slice(0, -1)}, "tail": }`;
    const cells = Array.from({ length: 1_001 }, (_, i) => [i % 10, Math.floor(i / 10) % 10, Math.floor(i / 100) % 10]);
    const lattice = { shape: [10, 10, 10], obstacles: { blocked: cells } };
    const refusals = await Promise.all([
      api.request('/api/lattices', { body: broken(lattice), headers: free.headers }),
      api.request('/api/jobs', { body: broken({ type: 'components', lattice }), headers: free.headers }),
      api.request('/api/jobs', { body: broken(maximal(0.1)), headers: free.headers }),
    ]);
    const problems = (await Promise.all(refusals.map((r) => r.json()))) as Array<Record<string, unknown>>;
    expect(refusals.map((r) => r.status)).toEqual([402, 402, 402]);
    expect(problems.map((p) => [p.limit, p.value])).toEqual([
      ['max_cells', 1_001],
      ['max_cells', 1_001],
      ['max_compute_units_per_job', MAX_DIFFUSION_SOURCES * MAX_DIFFUSION_STEPS],
    ]);
    // Within the plan, the same break is the parser's.
    const fits = await api.request('/api/jobs', { body: broken({ type: 'components', lattice: { shape: [10, 10, 10], obstacles: { blocked: cells.slice(0, 10) } } }), headers: free.headers });
    expect(fits.status).toBe(400);
    expect(await fits.json()).toMatchObject({ code: 'invalid_json' });
  });
});
