/**
 * Submissions in one round trip (shared/jobs/insert-statement.ts, `executeAsTenant`): on a plan
 * without monthly quotas an inline submission's write is one query string — the role and tenant
 * switch and a prepared statement — with row-level security in force, each job counted and charged
 * once, nothing written when any part fails, and nothing left behind on the pooled connection.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { APP_ROLE, createDb, type Db, executeAsTenant, type PreparedStatement, sql } from '../../shared/db.ts';
import { writeJobsAsTenant } from '../../shared/jobs/insert-statement.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { json, type JobJson } from './support.ts';
import { newJob, usageOf } from './new-job-rows.ts';

const env = useTestEnvironment();
const api = useTestApi(env);

let a: TestTenant;
let b: TestTenant;
/** One pooled connection, so "the next query" runs where the write did. */
let single: Db;

beforeAll(async () => {
  a = await createTestTenant(env.db, { plan: 'enterprise' });
  b = await createTestTenant(env.db, { plan: 'enterprise' });
  single = createDb({ url: env.env.DATABASE_URL as string, poolMax: 1 });
});

afterAll(async () => {
  await single?.destroy();
});

const pathJob = (i: number) => ({ type: 'shortest_path' as const, lattice: { shape: [20, 20] }, params: { start: [0, 0], end: [i % 20, Math.floor(i / 20)] } });

const usage = (tenantId: string, metric: string): Promise<number> => usageOf(env.db, tenantId, metric);

const whoAmI = async (db: Db) =>
  (await db.raw(`select current_user as role, coalesce(current_setting('app.tenant_id', true), '') as tenant, current_setting('plan_cache_mode') as plans`)).rows[0] as {
    role: string;
    tenant: string;
    plans: string;
  };

describe('POST /api/jobs on a plan without monthly quotas', () => {
  it('writes each submission in one query: concurrent ones each get their own job, counted and charged once', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    const query = vi.spyOn(pg.Client.prototype, 'query');
    let sent: string[];
    let responses: Response[];
    try {
      responses = await Promise.all(Array.from({ length: 30 }, (_, i) => api.request('/api/jobs', { body: pathJob(i), headers: tenant.headers })));
      sent = query.mock.calls.map(([text]) => (typeof text === 'string' ? text : String((text as { text?: unknown }).text)));
    } finally {
      query.mockRestore();
    }
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 30 }, () => 202));
    const jobs = await Promise.all(responses.map((r) => json<JobJson>(r)));
    const rows = (await env.db('jobs').where({ tenant_id: tenant.tenantId }).select('id', 'params', 'cells')) as Array<{ id: string; params: { end: number[] }; cells: number }>;
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(rows).toHaveLength(30);
    jobs.forEach((job, i) => expect(byId.get(job.id)?.params.end).toEqual(pathJob(i).params.end));
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(30);
    expect(await usage(tenant.tenantId, 'compute_units')).toBeGreaterThan(0);
    // The writes: no transaction of their own, every one an EXECUTE behind the tenant switch.
    const writes = sent.filter((text) => /insert into jobs|catalytic_insert_jobs/i.test(text));
    expect(writes.length).toBeGreaterThan(0);
    for (const text of writes) expect(text).toMatch(/^(select set_config\('role'.*; execute "catalytic_insert_jobs_v2"\(|prepare "catalytic_insert_jobs_v2")/s);
    // …and none the transaction path's (knex's quoted insert inside BEGIN … COMMIT).
    expect(sent.filter((text) => /insert into "jobs"|insert into "usage_counters"/.test(text))).toEqual([]);
  });

  it('charges compute units as the transaction path does: the same totals for the same jobs', async () => {
    const enterprise = await createTestTenant(env.db, { plan: 'enterprise' });
    const professional = await createTestTenant(env.db, { plan: 'professional' });
    for (const tenant of [enterprise, professional]) {
      for (let i = 0; i < 3; i++) expect((await api.request('/api/jobs', { body: pathJob(i + 5), headers: tenant.headers })).status).toBe(202);
    }
    const units = await usage(professional.tenantId, 'compute_units');
    expect(units).toBeGreaterThan(0);
    expect(await usage(enterprise.tenantId, 'compute_units')).toBe(units);
    expect(await usage(enterprise.tenantId, 'jobs.shortest_path')).toBe(3);
  });
});

describe('writeJobsAsTenant', () => {
  it('stores every column given, and reads the rows back in the order of the jobs', async () => {
    const jobs = [
      newJob(a.tenantId, { labels: { run: 'x', "it's": 'quoted \\ value' }, artefacts: ['path'], idempotencyKey: `k-${randomUUID()}`, requestHash: 'h1' }),
      newJob(a.tenantId, { type: 'components', params: {}, cells: 12, memoryBytes: 99, computeUnits: 5 }),
    ];
    const rows = await writeJobsAsTenant(single, a.tenantId, jobs);
    expect(rows.map((r) => r?.id)).toEqual(jobs.map((j) => j.id));
    const stored = (await env.db('jobs').whereIn('id', jobs.map((j) => j.id)).orderBy('cells', 'desc')) as Array<Record<string, unknown>>;
    expect(stored[0]).toMatchObject({ tenant_id: a.tenantId, type: 'shortest_path', status: 'queued', cells: 64, memory_bytes: 4096, max_attempts: 3, labels: jobs[0]?.labels, artefacts: ['path'], idempotency_key: jobs[0]?.idempotencyKey, request_hash: 'h1', lattice: jobs[0]?.lattice, params: jobs[0]?.params });
    expect(stored[1]).toMatchObject({ type: 'components', cells: 12, memory_bytes: 99, labels: null, artefacts: null, idempotency_key: null, lattice_id: null });
    expect(rows[0]).toMatchObject({ status: 'queued', state_version: 0, lattice: jobs[0]?.lattice, params: jobs[0]?.params });
  });

  it('neither inserts, counts nor charges a job whose idempotency key is taken', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    const key = `key-${randomUUID()}`;
    const [first] = await writeJobsAsTenant(single, tenant.tenantId, [newJob(tenant.tenantId, { idempotencyKey: key, computeUnits: 10 })]);
    expect(first).toBeDefined();
    const again = await writeJobsAsTenant(single, tenant.tenantId, [newJob(tenant.tenantId, { idempotencyKey: key, computeUnits: 10 }), newJob(tenant.tenantId, { computeUnits: 7 })]);
    expect(again[0]).toBeUndefined();
    expect(again[1]).toBeDefined();
    expect(await env.db('jobs').where({ tenant_id: tenant.tenantId }).count<Array<{ count: number }>>('* as count')).toEqual([{ count: 2 }]);
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(2);
    expect(await usage(tenant.tenantId, 'compute_units')).toBe(17);
  });

  it('writes nothing when a row is refused, and the refusal is the row data error', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    const write = writeJobsAsTenant(single, tenant.tenantId, [newJob(tenant.tenantId), newJob(tenant.tenantId, { type: 'no_such_type' })]);
    await expect(write).rejects.toMatchObject({ code: '23514' });
    expect(await env.db('jobs').where({ tenant_id: tenant.tenantId }).count<Array<{ count: number }>>('* as count')).toEqual([{ count: 0 }]);
    expect(await usage(tenant.tenantId, 'jobs.shortest_path')).toBe(0);
    expect(await usage(tenant.tenantId, 'compute_units')).toBe(0);
  });

  it('refuses jobs of another tenant than the one it writes as', async () => {
    await expect(writeJobsAsTenant(single, a.tenantId, [newJob(b.tenantId)])).rejects.toThrow(/one tenant/);
  });

  it('leaves no role, tenant or plan setting behind, after a write or a failed one', async () => {
    const owner = await whoAmI(single);
    expect(owner.role).not.toBe(APP_ROLE);
    await writeJobsAsTenant(single, a.tenantId, [newJob(a.tenantId)]);
    expect(await whoAmI(single)).toEqual(owner);
    await expect(writeJobsAsTenant(single, a.tenantId, [newJob(a.tenantId, { type: 'no_such_type' })])).rejects.toThrow();
    expect(await whoAmI(single)).toEqual(owner);
  });

  it('prepares its statement again when the connection lost it', async () => {
    await writeJobsAsTenant(single, a.tenantId, [newJob(a.tenantId)]);
    await single.raw('deallocate all');
    // The first call after finds the statement gone and fails; the next prepares it again.
    await writeJobsAsTenant(single, a.tenantId, [newJob(a.tenantId)]).catch((err: { code?: string }) => expect(err.code).toBe('26000'));
    expect(await writeJobsAsTenant(single, a.tenantId, [newJob(a.tenantId)])).toHaveLength(1);
  });
});

describe('executeAsTenant', () => {
  const countJobs: PreparedStatement = { name: 'test_count_jobs', params: ['uuid'], text: 'select count(*)::int as n, count(*) filter (where tenant_id = $1)::int as named from jobs' };
  const countAs: PreparedStatement = {
    name: 'test_count_as',
    params: ['uuid', 'text'],
    text: `insert into usage_counters (tenant_id, day, metric, value) values ($1, current_date, $2, 1) returning value`,
  };

  it('applies row-level security to reads and writes of a prepared statement', async () => {
    const [seen] = await executeAsTenant<{ n: number; named: number }>(single, a.tenantId, countJobs, [sql`${b.tenantId}`]);
    expect(seen?.named).toBe(0);
    const [own] = await executeAsTenant<{ n: number; named: number }>(single, a.tenantId, countJobs, [sql`${a.tenantId}`]);
    expect(own?.n).toBeGreaterThan(0);
    expect(own?.named).toBe(own?.n);
    // Writing a row of another tenant is refused by the policy's WITH CHECK.
    await expect(executeAsTenant(single, a.tenantId, countAs, [sql`${b.tenantId}`, sql`${'test.x'}`])).rejects.toThrow(/row-level security/);
    expect(await usage(b.tenantId, 'test.x')).toBe(0);
  });

  it('escapes its arguments and its tenant', async () => {
    const hostile = `x'); delete from jobs; --`;
    const [row] = await executeAsTenant<{ value: number }>(single, a.tenantId, countAs, [sql`${a.tenantId}`, sql`${hostile}`]);
    expect(row?.value).toBe(1);
    expect(await usage(a.tenantId, hostile)).toBe(1);
    await expect(executeAsTenant(single, `${a.tenantId}'; reset role; --`, countJobs, [sql`${a.tenantId}`])).rejects.toThrow(/uuid/);
    await expect(executeAsTenant(single, a.tenantId, countJobs, [])).rejects.toThrow(/arguments/);
  });
});
