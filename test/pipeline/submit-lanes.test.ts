/**
 * Usage counters in lanes (migration 0033, shared/usage.ts › USAGE_LANES): a tenant's concurrent
 * submit writes count in different rows of a counter, yet the monthly quotas hold exactly — a
 * write near a limit takes the tenant's advisory lock and reads the sum of every lane.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../shared/auth/principal.ts';
import { createDb, type Db } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { type MonthlyLimits, writeJobsWithinQuotas } from '../../shared/jobs/quota-insert-statement.ts';
import { writeJobsAsTenant } from '../../shared/jobs/insert-statement.ts';
import { USAGE_LANES, usageDay } from '../../shared/usage.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { json, parsedSubmission } from './support.ts';
import { newJob, usageOf } from './new-job-rows.ts';

const QUOTA = 40;
const env = useTestEnvironment();
// Four writes of one tenant in flight at once in this API process.
const api = useTestApi(env, { SUBMIT_WRITES_PER_TENANT: '4' });

/** Eight pooled connections, so concurrent writes really overlap in PostgreSQL. */
let pool: Db;

beforeAll(async () => {
  pool = createDb({ url: env.env.DATABASE_URL as string, poolMax: 8 });
  // Before the first request: the API caches plan rows for a few seconds.
  await env.db('plans').where({ code: 'starter' }).update({ jobs_per_month: QUOTA });
});

afterAll(async () => {
  await pool?.destroy();
});

/** The lanes a tenant's counter has rows in. */
async function lanesOf(tenantId: string, metric: string): Promise<number[]> {
  const rows = (await env.db('usage_counters').where({ tenant_id: tenantId, metric }).orderBy('lane').select('lane')) as Array<{ lane: number }>;
  return rows.map((r) => r.lane);
}

/** Sessions of this file's database waiting for an advisory lock. */
async function waitingForAdvisoryLocks(): Promise<number> {
  const { rows } = await env.db.raw<{ rows: Array<{ n: number }> }>(
    `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`,
  );
  return rows[0]?.n ?? 0;
}

const limits = (jobsPerMonth: number, computeUnitsPerMonth: number): MonthlyLimits => ({ jobsPerMonth, computeUnitsPerMonth, exactMargin: 1000 });

/** Runs `writes` at once, each in its own lane (of eight), and returns every outcome's kind. */
async function inLanes(tenantId: string, limit: MonthlyLimits, writes: number, jobsEach: number): Promise<string[]> {
  const outcomes = await Promise.all(
    Array.from({ length: writes }, (_, i) =>
      writeJobsWithinQuotas(
        pool,
        tenantId,
        limit,
        Array.from({ length: jobsEach }, () => newJob(tenantId)),
        { lane: i % 8 },
      ),
    ),
  );
  return outcomes.flat().map((o) => o.kind);
}

describe('concurrent writes of one tenant in different lanes', () => {
  it('never overshoot the monthly jobs quota near its limit', async () => {
    for (let round = 0; round < 3; round++) {
      const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
      // 13 used in lane 3; 24 writes of 2 jobs want 48 of the 20 left.
      await env.db('usage_counters').insert({ tenant_id: tenant.tenantId, day: usageDay(), metric: 'jobs.components', lane: 3, value: 13 });
      const kinds = await inLanes(tenant.tenantId, limits(33, -1), 24, 2);
      expect(kinds.filter((k) => k === 'inserted')).toHaveLength(20);
      expect(kinds.filter((k) => k === 'jobs_quota')).toHaveLength(28);
      expect(await env.db('jobs').where({ tenant_id: tenant.tenantId })).toHaveLength(20);
      expect(await usageOf(env.db, tenant.tenantId, 'jobs.shortest_path')).toBe(20);
      expect((await lanesOf(tenant.tenantId, 'jobs.shortest_path')).length).toBeGreaterThan(1);
    }
  });

  it('never overshoot the monthly compute units', async () => {
    for (let round = 0; round < 3; round++) {
      const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
      await env.db('usage_counters').insert({ tenant_id: tenant.tenantId, day: usageDay(), metric: 'compute_units', lane: 5, value: 100 });
      // 64 units a job: 15 jobs fit in the 960 left of 1,060.
      const kinds = await inLanes(tenant.tenantId, limits(-1, 1060), 16, 2);
      expect(kinds.filter((k) => k === 'inserted')).toHaveLength(15);
      expect(await usageOf(env.db, tenant.tenantId, 'compute_units')).toBe(1060);
      expect((await lanesOf(tenant.tenantId, 'compute_units')).length).toBeGreaterThan(2);
    }
  });

  it('count every job once, whatever lane each write took', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    await Promise.all(Array.from({ length: 16 }, (_, i) => writeJobsAsTenant(pool, tenant.tenantId, [newJob(tenant.tenantId), newJob(tenant.tenantId)], { lane: i % USAGE_LANES })));
    expect(await lanesOf(tenant.tenantId, 'jobs.shortest_path')).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(await usageOf(env.db, tenant.tenantId, 'jobs.shortest_path')).toBe(32);
    expect(await usageOf(env.db, tenant.tenantId, 'compute_units')).toBe(32 * 64);
  });
});

describe('submissions of one tenant with several writes in flight', () => {
  it('hold the monthly jobs quota exactly, the jobs counted in more than one lane, the usage report summing them', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'starter' });
    await env.db('usage_counters').insert({ tenant_id: tenant.tenantId, day: usageDay(), metric: 'jobs.components', lane: 7, value: QUOTA - 12 });
    const principal = { kind: 'api_key' as const, tenantId: tenant.tenantId, userId: tenant.userId, apiKeyId: null, role: 'member' as const, scopes: new Set(SCOPES), planCode: 'starter' };
    const body = (i: number) => parsedSubmission({ type: 'shortest_path', lattice: { shape: [20, 20] }, params: { start: [0, 0], end: [i % 20, Math.floor(i / 20)] } });
    const submit = (i: number) =>
      api.deps.jobs.submit(principal, body(i), undefined, '/api/jobs').then(
        () => 'accepted',
        (err: unknown) => (err instanceof AppError && err.code === 'quota_exceeded' ? `refused, used ${String(err.extra.used)}` : err),
      );
    // Another session holds the tenant's jobs-quota lock: the first wave's write (slot 0) waits
    // for it inside PostgreSQL, the second wave's write (slot 1) too, then both go, one at a time:
    // the first takes its 8, the second 4 of the 12 left, each in its own lane.
    const holder = await env.db.client.acquireConnection();
    let answers: unknown[];
    try {
      await holder.query('begin');
      await holder.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`catalytic:jobs-quota:${tenant.tenantId}`]);
      const first = Array.from({ length: 8 }, (_, i) => submit(i));
      await expect.poll(() => waitingForAdvisoryLocks(), { timeout: 10_000, interval: 20 }).toBe(1);
      const second = Array.from({ length: 22 }, (_, i) => submit(8 + i));
      await expect.poll(() => waitingForAdvisoryLocks(), { timeout: 10_000, interval: 20 }).toBe(2);
      await holder.query('commit');
      answers = await Promise.all([...first, ...second]);
    } finally {
      await env.db.client.releaseConnection(holder);
    }
    expect(answers.filter((a) => a === 'accepted')).toHaveLength(12);
    expect(answers.filter((a) => a === `refused, used ${QUOTA}`)).toHaveLength(18);
    expect(await env.db('jobs').where({ tenant_id: tenant.tenantId })).toHaveLength(12);
    expect(await usageOf(env.db, tenant.tenantId, 'jobs.shortest_path')).toBe(12);
    expect((await lanesOf(tenant.tenantId, 'jobs.shortest_path')).length).toBeGreaterThan(1);
    // The usage API reports the sum of the lanes.
    const usage = await api.request(`/api/usage?from=${usageDay()}&to=${usageDay()}`, { headers: tenant.headers });
    expect(usage.status).toBe(200);
    const report = await json<{ days: Array<{ day: string; metrics: Record<string, number> }>; month: { quotas: { jobs: { used: number } } } }>(usage);
    expect(report.month.quotas.jobs).toMatchObject({ used: QUOTA, limit: QUOTA, remaining: 0 });
    expect(report.days.find((d) => d.day === usageDay())?.metrics['jobs.shortest_path']).toBe(12);
  });
});
