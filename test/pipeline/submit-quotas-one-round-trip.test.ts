/**
 * Submissions on a plan with monthly quotas in one round trip (shared/jobs/quota-insert-statement.ts):
 * the quota locks, the usage read, the insert and the counts go as one query string behind the
 * role and tenant switch; each job is decided in order as the transaction path decides it; the
 * usage is read after the locks, so a writer that held them is counted.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb, type Db } from '../../shared/db.ts';
import { type MonthlyLimits, writeJobsWithinQuotas } from '../../shared/jobs/quota-insert-statement.ts';
import { usageDay } from '../../shared/usage.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { newJob, usageOf } from './new-job-rows.ts';

const env = useTestEnvironment();
const api = useTestApi(env);

/** One pooled connection, so statements are prepared on it and reused. */
let single: Db;

beforeAll(() => {
  single = createDb({ url: env.env.DATABASE_URL as string, poolMax: 1 });
});

afterAll(async () => {
  await single?.destroy();
});

const usage = (tenantId: string, metric: string): Promise<number> => usageOf(env.db, tenantId, metric);

async function used(tenantId: string, metric: string, value: number): Promise<void> {
  await env.db('usage_counters').insert({ tenant_id: tenantId, day: usageDay(), metric, value });
}

const limits = (jobsPerMonth: number, computeUnitsPerMonth: number, exactMargin = 1000): MonthlyLimits => ({ jobsPerMonth, computeUnitsPerMonth, exactMargin });

describe('writeJobsWithinQuotas', () => {
  it('accepts the first jobs that fit the month’s jobs, and tells the others what the month has used', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    await used(tenant.tenantId, 'jobs.components', 5);
    const jobs = Array.from({ length: 4 }, () => newJob(tenant.tenantId));
    const outcomes = await writeJobsWithinQuotas(single, tenant.tenantId, limits(7, -1), jobs);
    expect(outcomes.map((o) => o.kind)).toEqual(['inserted', 'inserted', 'jobs_quota', 'jobs_quota']);
    expect(outcomes[2]).toEqual({ kind: 'jobs_quota', usedAfter: 7 });
    expect(outcomes.slice(0, 2).map((o) => (o.kind === 'inserted' ? o.row.id : undefined))).toEqual([jobs[0]?.id, jobs[1]?.id]);
    expect(await env.db('jobs').where({ tenant_id: tenant.tenantId })).toHaveLength(2);
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(2);
    expect(await usage(tenant.tenantId, 'compute_units')).toBe(128);
  });

  it('fits compute units in arrival order: a job that does not fit is refused, a later smaller one still fits', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    await used(tenant.tenantId, 'compute_units', 10);
    const jobs = [60, 50, 30, 1].map((units) => newJob(tenant.tenantId, { computeUnits: units }));
    const outcomes = await writeJobsWithinQuotas(single, tenant.tenantId, limits(-1, 100), jobs);
    expect(outcomes.map((o) => o.kind)).toEqual(['inserted', 'compute_quota', 'inserted', 'compute_quota']);
    expect(outcomes[1]).toEqual({ kind: 'compute_quota', used: 70 });
    expect(outcomes[3]).toEqual({ kind: 'compute_quota', used: 100 });
    expect(await usage(tenant.tenantId, 'compute_units')).toBe(100);
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(2);
  });

  it('applies both: jobs past the jobs room are refused for it, before their units are weighed', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    const jobs = [40, 80, 10, 10].map((units) => newJob(tenant.tenantId, { computeUnits: units }));
    const outcomes = await writeJobsWithinQuotas(single, tenant.tenantId, limits(3, 100), jobs);
    expect(outcomes).toMatchObject([{ kind: 'inserted' }, { kind: 'compute_quota', used: 40 }, { kind: 'inserted' }, { kind: 'jobs_quota', usedAfter: 3 }]);
    expect(await usage(tenant.tenantId, 'compute_units')).toBe(50);
  });

  it('neither inserts, counts nor charges a job whose idempotency key is taken', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    const [first] = await writeJobsWithinQuotas(single, tenant.tenantId, limits(100, 1000), [newJob(tenant.tenantId, { idempotencyKey: 'k1' })]);
    expect(first?.kind).toBe('inserted');
    const again = await writeJobsWithinQuotas(single, tenant.tenantId, limits(100, 1000), [newJob(tenant.tenantId, { idempotencyKey: 'k1' }), newJob(tenant.tenantId)]);
    expect(again.map((o) => o.kind)).toEqual(['key_taken', 'inserted']);
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(2);
    expect(await usage(tenant.tenantId, 'compute_units')).toBe(128);
  });

  it('reads the month after taking the locks: a writer that held them is counted', async () => {
    for (const [name, limit, lock, metric] of [
      // 0 used + 1 wanted + a margin of 1,000 reaches the limit: the jobs lock is taken.
      ['jobs near the limit', limits(1001, -1), 'jobs-quota', 'jobs.components'],
      ['compute units', limits(-1, 1001), 'compute-quota', 'compute_units'],
    ] as const) {
      const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
      const holder = await env.db.client.acquireConnection();
      let written: ReturnType<typeof writeJobsWithinQuotas> | undefined;
      try {
        await holder.query('begin');
        await holder.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`catalytic:${lock}:${tenant.tenantId}`]);
        // What another write adds while it holds the lock: all of the month's room.
        await holder.query(`insert into usage_counters (tenant_id, day, metric, value) values ($1, $2, $3, $4)`, [tenant.tenantId, usageDay(), metric, 1001]);
        written = writeJobsWithinQuotas(single, tenant.tenantId, limit, [newJob(tenant.tenantId)]);
        await new Promise((r) => setTimeout(r, 300));
        await holder.query('commit');
      } finally {
        await env.db.client.releaseConnection(holder);
      }
      expect((await written)?.[0]?.kind, name).toBe(lock === 'jobs-quota' ? 'jobs_quota' : 'compute_quota');
      expect(await env.db('jobs').where({ tenant_id: tenant.tenantId }), name).toHaveLength(0);
    }
  });

  it('takes no jobs lock far from the jobs limit', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    const holder = await env.db.client.acquireConnection();
    try {
      await holder.query('begin');
      await holder.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`catalytic:jobs-quota:${tenant.tenantId}`]);
      const outcomes = await writeJobsWithinQuotas(single, tenant.tenantId, limits(5000, -1), [newJob(tenant.tenantId)]);
      expect(outcomes[0]?.kind).toBe('inserted');
    } finally {
      await holder.query('rollback');
      await env.db.client.releaseConnection(holder);
    }
  });
});

describe('POST /api/jobs on a plan with monthly quotas', () => {
  it('writes an inline submission in one query string: the locks and the write, no transaction of its own', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'starter' });
    const query = vi.spyOn(pg.Client.prototype, 'query');
    let sent: string[];
    let status: number;
    try {
      status = (await api.request('/api/jobs', { body: { type: 'shortest_path', lattice: { shape: [8, 8] }, params: { start: [0, 0], end: [7, 7] } }, headers: tenant.headers })).status;
      sent = query.mock.calls.map(([text]) => (typeof text === 'string' ? text : String((text as { text?: unknown }).text)));
    } finally {
      query.mockRestore();
    }
    expect(status).toBe(202);
    const writes = sent.filter((text) => /insert into jobs|insert into "jobs"|catalytic_insert_jobs/i.test(text) && !text.startsWith('prepare '));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^select set_config\('role'.*; execute "catalytic_submit_quota_locks_v1"\(.*\); execute "catalytic_insert_jobs_within_quotas_v2"\(/s);
    // …and none of the transaction path's statements (its lock and read, knex's quoted inserts).
    expect(sent.filter((text) => /^select pg_advisory_xact_lock|insert into "jobs"|insert into "usage_counters"/.test(text))).toEqual([]);
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(1);
  });
});
