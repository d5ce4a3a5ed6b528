/**
 * `POST /api/batches` bounds each job's lists from the raw text, before the body is parsed, as
 * `POST /api/jobs` bounds one job's: a batch of 1,000 jobs where some carry an obstacle list longer
 * than the plan's cells per lattice, or heat-point lists (with the batch's defaults merged in) that
 * alone cost more than its compute units per job, is refused 422 `batch_invalid` naming exactly
 * those jobs by index — even when the text breaks after them, so no parser walked it — and
 * nothing is written. Lists within the plan go on to the parser.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_DIFFUSION_SOURCES } from '../../shared/lattice/limits.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let free: TestTenant;

beforeAll(async () => {
  free = await createTestTenant(env.db, { plan: 'free' });
});

/** Valid JSON up to its end, then broken: a parser would stop with invalid_json. */
const broken = (body: unknown) => `${JSON.stringify(body).slice(0, -1)}, "tail": }`;
const cells = (n: number) => Array.from({ length: n }, (_, i) => [i % 10, Math.floor(i / 10) % 10, Math.floor(i / 100) % 10]);
const sources = (n: number) => cells(n).map((cell) => ({ cell, value: 1 }));

/** 1,000 small component jobs, with the given jobs put in at their indices. */
function batch(special: Record<number, unknown>, defaults: unknown = { type: 'components' }) {
  const jobs = Array.from({ length: 1000 }, (_, i) => special[i] ?? { lattice: { shape: [10, 10, 10], obstacles: { blocked: cells(3) } } });
  return { defaults, jobs };
}

describe('the per-job list bounds of a batch', () => {
  it('refuses a batch naming every job whose lists exceed the plan, from the raw text, and writes nothing', async () => {
    const giant = { lattice: { shape: [10, 10, 10], obstacles: { blocked: cells(1_001) } } };
    // steps from the defaults, sources its own: 1,000 steps × 1,001 sources > the free plan's million units.
    const hot = { type: 'diffusion', lattice: { dimensions: 3, size: 10 }, params: { alpha: 0.1, sources: sources(1_001) } };
    const body = batch({ 3: giant, 500: hot, 999: giant }, { type: 'components', params: { steps: 1_000 } });
    const res = await api.request('/api/batches', { body: broken(body), headers: free.headers });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { code: string; refused: number; errors: Array<Record<string, unknown>> };
    expect(problem).toMatchObject({ code: 'batch_invalid', refused: 3 });
    expect(problem.errors.map((e) => [e.index, e.code, e.status, e.limit, e.value])).toEqual([
      [3, 'plan_limit_exceeded', 402, 'max_cells', 1_001],
      [500, 'plan_limit_exceeded', 402, 'max_compute_units_per_job', 1_001 * 1_000],
      [999, 'plan_limit_exceeded', 402, 'max_cells', 1_001],
    ]);
    expect(await env.db('batches').where({ tenant_id: free.tenantId }).count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(await env.db('jobs').where({ tenant_id: free.tenantId }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('leaves lists within the plan, and lists the schema refuses, to the parser', async () => {
    const fits = await api.request('/api/batches', { body: broken(batch({ 7: { lattice: { shape: [10, 10, 10], obstacles: { blocked: cells(1_000) } } } })), headers: free.headers });
    expect(fits.status).toBe(400);
    expect(await fits.json()).toMatchObject({ code: 'invalid_json' });
    // More heat points than any job may have is the schema's refusal (400), named by index in the batch.
    const tooMany = { type: 'diffusion', lattice: { dimensions: 3, size: 10 }, params: { steps: 1, alpha: 0.1, sources: sources(MAX_DIFFUSION_SOURCES + 1) } };
    const res = await api.request('/api/batches', { body: batch({ 2: tooMany }), headers: free.headers });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { errors: Array<{ index: number; code: string }> };
    expect(problem.errors.map((e) => [e.index, e.code])).toEqual([[2, 'validation_failed']]);
  });
});
