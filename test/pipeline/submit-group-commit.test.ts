/**
 * Group commit of submissions, over real HTTP, PostgreSQL and Redis: concurrent submissions of
 * one tenant are written by shared transactions, yet each request gets its own job or its own
 * refusal, each job is counted and queued exactly once, and the monthly quota holds exactly.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type Submission, SubmissionWriter } from '../../api/jobs/submit-writer.ts';
import { SCOPES } from '../../shared/auth/principal.ts';
import { jobSubmitBatchSize } from '../../shared/metrics.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { json, type JobJson, parsedSubmission, waitingJobIds } from './support.ts';

const QUOTA = 7;
const env = useTestEnvironment();
const api = useTestApi(env);

beforeAll(async () => {
  // Before the first request: the API caches plan rows for a few seconds.
  await env.db('plans').where({ code: 'starter' }).update({ jobs_per_month: QUOTA });
});

/** Transactions written by the submit path so far, and the submissions they carried. */
async function batches(): Promise<{ writes: number; submissions: number }> {
  const { values } = await jobSubmitBatchSize.get();
  const pick = (name: string) => values.find((v) => v.metricName === name)?.value ?? 0;
  return { writes: pick('catalytic_job_submit_batch_size_count'), submissions: pick('catalytic_job_submit_batch_size_sum') };
}

/** A shortest path job told apart from its siblings by its end cell. */
const pathJob = (i: number) => ({ type: 'shortest_path' as const, lattice: { shape: [20, 20] }, params: { start: [0, 0], end: [i % 20, Math.floor(i / 20)] } });

/** The jobs queued, each once per entry that carries it (tiny ones written together share one). */
async function queued(tenantId: string): Promise<string[]> {
  // A submission is answered once its row is committed; its queueing follows.
  await api.deps.jobs.submissionsQueued(tenantId);
  return waitingJobIds(env, tenantId);
}

async function usage(tenantId: string, metric: string): Promise<number> {
  // Summed over the days and the lanes a tenant's concurrent writes count in.
  const [row] = (await env.db('usage_counters').where({ tenant_id: tenantId, metric }).sum('value as n')) as Array<{ n: string | null }>;
  return Number(row?.n ?? 0);
}

describe('concurrent submissions of one tenant', () => {
  it('are each accepted with their own job, counted and queued once, written by fewer transactions than requests', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'professional' });
    const n = 60;
    const before = await batches();
    const responses = await Promise.all(Array.from({ length: n }, (_, i) => api.request('/api/jobs', { body: pathJob(i), headers: tenant.headers })));
    const after = await batches();

    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: n }, () => 202));
    const jobs = await Promise.all(responses.map((r) => json<JobJson>(r)));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(n);
    responses.forEach((r, i) => expect(r.headers.get('location')).toBe(`/api/jobs/${jobs[i]?.id}`));
    // Each answer is the row of its own request.
    const rows = await env.db('jobs').where({ tenant_id: tenant.tenantId }).select('id', 'params', 'status');
    expect(rows).toHaveLength(n);
    const byId = new Map(rows.map((r: { id: string; params: { end: number[] }; status: string }) => [r.id, r]));
    jobs.forEach((job, i) => {
      expect(job).toMatchObject({ type: 'shortest_path', status: 'queued' });
      expect(byId.get(job.id)?.params.end).toEqual(pathJob(i).params.end);
    });
    // Queued exactly once each, counted once each.
    const waiting = await queued(tenant.tenantId);
    expect(waiting).toHaveLength(n);
    expect(new Set(waiting)).toEqual(new Set(jobs.map((j) => j.id)));
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(n);
    expect(await env.redis.zscore(`${env.redisPrefix}:{fair}:ready`, tenant.tenantId)).toBe('0');
    // Batches formed: every submission went through a write, and writes carried several.
    expect(after.submissions - before.submissions).toBe(n);
    expect(after.writes - before.writes).toBeLessThan(n);
  });

  it('submitted in one turn of the event loop are written by one transaction', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'professional' });
    const service = api.deps.jobs;
    const principal = { kind: 'api_key' as const, tenantId: tenant.tenantId, userId: tenant.userId, apiKeyId: null, role: 'member' as const, scopes: new Set(SCOPES), planCode: 'professional' };
    const before = await batches();
    const submitted = await Promise.all(Array.from({ length: 25 }, (_, i) => service.submit(principal, parsedSubmission(pathJob(i)), undefined, '/api/jobs')));
    const after = await batches();
    expect(after.writes - before.writes).toBe(1);
    expect(after.submissions - before.submissions).toBe(25);
    expect(new Set(submitted.map((s) => s.row.id)).size).toBe(25);
    expect(submitted[3]?.row).toMatchObject({ type: 'shortest_path', status: 'queued', cells: 400, params: { start: [0, 0], end: [3, 0] }, lattice: { shape: [20, 20] } });
    const stored = await env.db('jobs').where({ id: submitted[3]?.row.id }).first('lattice', 'params');
    expect(stored).toEqual({ lattice: submitted[3]?.row.lattice, params: submitted[3]?.row.params });
    // One transaction: one creation time.
    expect(new Set(submitted.map((s) => new Date(s.row.created_at).getTime())).size).toBe(1);
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(25);
  });

  it('refuse an invalid one alone, before or inside the shared write', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'professional' });
    const created = await api.request('/api/lattices', { body: { shape: [10, 10] }, headers: tenant.headers });
    const latticeId = (await json<{ id: string }>(created)).id;
    const valid = [
      ...Array.from({ length: 12 }, (_, i) => pathJob(i)),
      ...Array.from({ length: 8 }, () => ({ type: 'components', lattice_id: latticeId })),
    ];
    const invalid = [
      // Checked before joining a write (inline lattice).
      { body: { type: 'shortest_path', lattice: { shape: [5, 5] }, params: { start: [0, 0], end: [9, 9] } }, status: 400, code: 'cell_out_of_bounds' },
      // Checked inside the write (stored lattice).
      { body: { type: 'shortest_path', lattice_id: latticeId, params: { start: [0, 0], end: [10, 0] } }, status: 400, code: 'cell_out_of_bounds' },
      { body: { type: 'components', lattice_id: '00000000-0000-4000-8000-000000000000' }, status: 404, code: 'not_found' },
      { body: { type: 'components', lattice: { shape: [200, 2] } }, status: 402, code: 'plan_limit_exceeded' },
    ];
    const bodies = [...valid.slice(0, 10), ...invalid.map((c) => c.body), ...valid.slice(10)];
    const responses = await Promise.all(bodies.map((body) => api.request('/api/jobs', { body, headers: tenant.headers })));
    const answers = await Promise.all(responses.map(async (r) => ({ status: r.status, body: await json<{ id?: string; code?: string }>(r) })));

    const refused = answers.slice(10, 10 + invalid.length);
    expect(refused.map((a) => [a.status, a.body.code])).toEqual(invalid.map((c) => [c.status, c.code]));
    const accepted = [...answers.slice(0, 10), ...answers.slice(10 + invalid.length)];
    expect(accepted.map((a) => a.status)).toEqual(valid.map(() => 202));
    const rows = await env.db('jobs').where({ tenant_id: tenant.tenantId }).select('id', 'lattice_id');
    expect(new Set(rows.map((r: { id: string }) => r.id))).toEqual(new Set(accepted.map((a) => a.body.id)));
    expect(rows.filter((r: { lattice_id: string | null }) => r.lattice_id === latticeId)).toHaveLength(8);
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(12);
    expect(await usage(tenant.tenantId, 'jobs.components')).toBe(8);
    expect(new Set(await queued(tenant.tenantId))).toEqual(new Set(accepted.map((a) => a.body.id)));
  });

  it('hold the monthly jobs quota exactly: only the overflow is refused', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'starter' });
    const first = await api.request('/api/jobs', { body: pathJob(0), headers: tenant.headers });
    expect(first.status).toBe(202);
    const responses = await Promise.all(Array.from({ length: 15 }, (_, i) => api.request('/api/jobs', { body: pathJob(i + 1), headers: tenant.headers })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(QUOTA - 1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15 - (QUOTA - 1));
    for (const response of responses.filter((r) => r.status === 429)) {
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await json(response)).toMatchObject({ code: 'quota_exceeded', limit: 'jobs_per_month', limit_value: QUOTA, used: QUOTA });
    }
    expect(await env.db('jobs').where({ tenant_id: tenant.tenantId })).toHaveLength(QUOTA);
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(QUOTA);
    expect(await queued(tenant.tenantId)).toHaveLength(QUOTA);
    const over = await api.request('/api/jobs', { body: pathJob(99), headers: tenant.headers });
    expect(over.status).toBe(429);
  });

  it('rewrite a batch one by one when the data of a row is refused, so only that submission fails', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'professional' });
    const service = api.deps.jobs;
    const writer = new SubmissionWriter(api.deps.runtime, service.producer);
    const plan = await api.deps.identity.plans.get('professional');
    const submission = (i: number): Submission => {
      const base = { tenantId: tenant.tenantId, plan, input: parsedSubmission(pathJob(i)), idempotencyKey: null, requestHash: null };
      return { ...base, job: writer.prepareInline(base) };
    };
    const broken = submission(1);
    // Past the checks, PostgreSQL's jsonb refuses a NUL character (SQLSTATE 22P05).
    if (broken.job) broken.job.params = { ...broken.job.params, note: 'nul \u0000' };
    const outcomes = await writer.write([submission(0), broken, submission(2)]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect((outcomes[1] as { error: { code?: string } }).error.code).toBe('22P05');
    expect(await env.db('jobs').where({ tenant_id: tenant.tenantId })).toHaveLength(2);
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(2);
  });

  it('answer 202 for written rows even when queueing them fails (reconcile queues them)', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'professional' });
    const service = api.deps.jobs;
    const failing = vi.spyOn(service.producer, 'enqueueMany').mockRejectedValue(new Error('Redis is away'));
    try {
      const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => api.request('/api/jobs', { body: pathJob(i), headers: tenant.headers })));
      expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 202));
      await service.submissionsQueued(tenant.tenantId);
      expect(failing).toHaveBeenCalled();
    } finally {
      failing.mockRestore();
    }
    const rows = await env.db('jobs').where({ tenant_id: tenant.tenantId, status: 'queued' });
    expect(rows).toHaveLength(10);
    expect(await queued(tenant.tenantId)).toHaveLength(0);
  });
});
