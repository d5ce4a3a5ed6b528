/**
 * Refused submissions: each is a 4xx problem+json with a stable type, and nothing is written —
 * no job or lattice row, no queued job. Also the Idempotency-Key contract and plan limits.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tenantQueueKey } from '../../shared/queues/names.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { json, type JobJson, submit } from './support.ts';

const env = useTestEnvironment({ BODY_LIMIT_BYTES: String(64 * 1024) });
const api = useTestApi(env);
let tenant: TestTenant;
let other: TestTenant;
let latticeId: string;

interface Problem {
  type: string;
  status: number;
  code: string;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
}

beforeAll(async () => {
  // Before the first request: the API caches plan rows for a few seconds.
  await env.db('plans').where({ code: 'free' }).update({ jobs_per_month: 2 });
  [tenant, other] = await Promise.all([createTestTenant(env.db, { plan: 'starter' }), createTestTenant(env.db, { plan: 'starter' })]);
  const created = await api.request('/api/lattices', { body: { shape: [10, 10] }, headers: tenant.headers });
  latticeId = (await json<{ id: string }>(created)).id;
});

async function counts() {
  const [jobs] = await env.db('jobs').count<{ count: string }[]>('* as count');
  const [lattices] = await env.db('lattices').count<{ count: string }[]>('* as count');
  const queued = await env.redis.keys(`${env.redisPrefix}:{t.*}:wait`);
  return { jobs: Number(jobs?.count), lattices: Number(lattices?.count), queues: queued.length };
}

async function expectProblem(response: Response, status: number, code: string): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = await json<Problem>(response);
  expect(problem).toMatchObject({ status, code, type: `/problems/${code}` });
  return problem;
}

describe('bad input', () => {
  it('refuses each malformed submission with a problem and writes nothing', async () => {
    const before = await counts();
    const post = (body: unknown, headers: Record<string, string> = tenant.headers) => api.request('/api/jobs', { body, headers });
    const path = { start: [0, 0], end: [9, 9] };

    await expectProblem(await post('{"type": "shortest_path", "lattice_id": '), 400, 'invalid_json');
    const wrongTypes = await expectProblem(await post({ type: 'shortest_path', lattice_id: latticeId, params: { start: '0,0', end: [9, 9] } }), 400, 'validation_failed');
    expect(wrongTypes.errors?.[0]?.path).toMatch(/^body\.params\.start/);
    await expectProblem(await post({ type: 'shortest_path', lattice_id: 42, params: path }), 400, 'validation_failed');
    const tooManyAxes = await expectProblem(
      await post({ type: 'components', lattice: { shape: [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2] } }),
      400,
      'validation_failed',
    );
    expect(tooManyAxes.errors?.[0]?.path).toMatch(/^body\.lattice\.shape/);
    const outside = await expectProblem(await post({ type: 'shortest_path', lattice_id: latticeId, params: { start: [0, 10], end: [9, 9] } }), 400, 'cell_out_of_bounds');
    expect(outside.detail).toMatch(/outside the shape \[10, 10\]/);
    await expectProblem(await post({ type: 'shortest_path', lattice_id: latticeId, params: { start: [0, 0, 0], end: [9, 9] } }), 400, 'cell_out_of_bounds');
    const unstable = await expectProblem(await post({ type: 'diffusion', lattice: { shape: [5, 5] }, params: { steps: 3, alpha: 0.4 } }), 400, 'params_invalid');
    // The field is named once: in `path`, not again at the start of the message.
    expect(unstable.errors?.[0]?.path).toBe('body.params.alpha');
    expect(unstable.errors?.[0]?.message).toMatch(/^0\.4 is unstable/);
    await expectProblem(await post({ type: 'teleport', lattice_id: latticeId, params: {} }), 400, 'validation_failed');
    await expectProblem(await post({ type: 'components', lattice_id: latticeId, lattice: { shape: [3] } }), 400, 'validation_failed');
    await expectProblem(await post({ type: 'components', lattice: { shape: [70000, 70000] } }), 400, 'too_many_cells');
    const blocked = Array.from({ length: 20_000 }, (_, i) => [i % 10, Math.floor(i / 10) % 10]);
    await expectProblem(await post({ type: 'components', lattice: { shape: [10, 10], obstacles: { blocked } } }), 413, 'payload_too_large');
    // Another tenant's lattice is as missing as a lattice that does not exist.
    await expectProblem(await post({ type: 'components', lattice_id: latticeId }, other.headers), 404, 'not_found');
    await expectProblem(await post({ type: 'components', lattice_id: '00000000-0000-4000-8000-000000000000' }), 404, 'not_found');
    await expectProblem(await api.request('/api/jobs', { body: { type: 'components', lattice_id: latticeId } }), 401, 'unauthorized');
    // Beyond the plan: the starter plan allows sides of 50 cells and 5 dimensions.
    // Each refusal names the cheapest plan that allows the lattice.
    expect(await expectProblem(await post({ type: 'components', lattice: { shape: [60, 2] } }), 402, 'plan_limit_exceeded')).toMatchObject({
      limit: 'max_side',
      limit_value: 50,
      value: 60,
      upgrade_plan: 'professional',
    });
    expect(await expectProblem(await post({ type: 'components', lattice: { dimensions: 6, size: 2 } }), 402, 'plan_limit_exceeded')).toMatchObject({
      limit: 'max_dimensions',
      upgrade_plan: 'professional',
    });
    expect(await counts()).toEqual(before);
  });

  it('refuses an obstacle list longer than the plan allows before walking it, on lattices and inline jobs', async () => {
    const free = await createTestTenant(env.db, { plan: 'free' });
    const before = await counts();
    const blocked = Array.from({ length: 2_000 }, (_, i) => [i % 10, Math.floor(i / 10) % 10, 1]);
    const stored = await expectProblem(
      await api.request('/api/lattices', { body: { shape: [10, 10, 10], obstacles: { blocked } }, headers: free.headers }),
      402,
      'plan_limit_exceeded',
    );
    expect(stored).toMatchObject({ limit: 'max_cells', limit_value: 1000, value: 2_000 });
    const tooBig = await expectProblem(await api.request('/api/lattices', { body: { shape: [20, 20] }, headers: free.headers }), 402, 'plan_limit_exceeded');
    expect(tooBig).toMatchObject({ limit: 'max_side', limit_value: 10, value: 20, upgrade_plan: 'starter' });
    await expectProblem(
      await api.request('/api/jobs', { body: { type: 'components', lattice: { shape: [10, 10, 10], obstacles: { blocked } } }, headers: free.headers }),
      402,
      'plan_limit_exceeded',
    );
    expect(await counts()).toEqual(before);
  });

  it('refuses bad lattices and hides other tenants’ lattices', async () => {
    const before = await counts();
    await expectProblem(await api.request('/api/lattices', { body: { shape: [3, 3], boundary: 'twisted' }, headers: tenant.headers }), 400, 'validation_failed');
    await expectProblem(
      await api.request('/api/lattices', { body: { shape: [3, 3], obstacles: { blocked: [[3, 0]] } }, headers: tenant.headers }),
      400,
      'cell_out_of_bounds',
    );
    await expectProblem(await api.request('/api/lattices', { body: { dimensions: 2 }, headers: tenant.headers }), 400, 'lattice_invalid');
    await expectProblem(await api.request(`/api/lattices/${latticeId}`, { headers: other.headers }), 404, 'not_found');
    await expectProblem(await api.request(`/api/lattices/${latticeId}`, { method: 'PATCH', body: { name: 'x' }, headers: other.headers }), 404, 'not_found');
    await expectProblem(await api.request(`/api/lattices/${latticeId}`, { method: 'DELETE', headers: other.headers }), 404, 'not_found');
    await expectProblem(
      await api.request('/api/lattices/path', { body: { lattice_id: latticeId, start: [0, 0], end: [1, 1] }, headers: other.headers }),
      404,
      'not_found',
    );
    expect(await counts()).toEqual(before);
  });

  it('returns the same job for a repeated Idempotency-Key, and refuses the key with another body', async () => {
    const body = { type: 'components', lattice_id: latticeId };
    const key = { 'idempotency-key': `key-${Date.now()}` };
    const first = await submit(api, tenant.headers, body, key);
    const again = await api.request('/api/jobs', { body, headers: { ...tenant.headers, ...key } });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await json<JobJson>(again)).id).toBe(first.id);
    // Concurrent repeats too.
    const racing = await Promise.all(Array.from({ length: 8 }, () => submit(api, tenant.headers, body, { 'idempotency-key': 'racing' })));
    expect(new Set(racing.map((j) => j.id)).size).toBe(1);
    await expectProblem(
      await api.request('/api/jobs', { body: { ...body, type: 'shortest_path', params: { start: [0, 0], end: [1, 1] } }, headers: { ...tenant.headers, ...key } }),
      409,
      'idempotency_conflict',
    );
    const rows = await env.db('jobs').where({ tenant_id: tenant.tenantId }).whereIn('idempotency_key', [key['idempotency-key'], 'racing']);
    expect(rows).toHaveLength(2);
    // Queued once in Redis.
    const waiting = await env.redis.lrange(tenantQueueKey(env.redisPrefix, tenant.tenantId, 'wait'), 0, -1);
    expect(waiting.filter((id) => id === first.id)).toHaveLength(1);
    // A keyed submission counts in a lane of its own choosing: the lanes are summed.
    const [usage] = (await env.db('usage_counters').where({ tenant_id: tenant.tenantId, metric: 'jobs.components' }).sum('value as n')) as Array<{ n: string | null }>;
    expect(Number(usage?.n)).toBe(2);
  });

  it('enforces the plan: lattices per tenant and jobs per month', async () => {
    const free = await createTestTenant(env.db, { plan: 'free' });
    for (let i = 0; i < 5; i++) {
      expect((await api.request('/api/lattices', { body: { shape: [3, 3] }, headers: free.headers })).status).toBe(201);
    }
    const sixth = await expectProblem(await api.request('/api/lattices', { body: { shape: [3, 3] }, headers: free.headers }), 402, 'plan_limit_exceeded');
    expect(sixth).toMatchObject({ limit: 'max_lattices', limit_value: 5 });

    const job = { type: 'components', lattice: { shape: [3, 3] } };
    await submit(api, free.headers, job);
    await submit(api, free.headers, job);
    const over = await api.request('/api/jobs', { body: job, headers: free.headers });
    await expectProblem(over, 429, 'quota_exceeded');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await env.db('jobs').where({ tenant_id: free.tenantId })).toHaveLength(2);
  });
});
