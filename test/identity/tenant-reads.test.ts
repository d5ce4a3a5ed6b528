import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { READ_JOB_WITH_RESULT, readJobWithResult, readVersionedJob } from '../../api/jobs/job-reads.ts';
import { APP_ROLE, createDb, type Db, executeAsTenant, readAsTenant, sql } from '../../shared/db.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { insertJob } from '../webhooks/fixtures.ts';

const env = useTestEnvironment();
const api = useTestApi(env);

let a: TestTenant;
let b: TestTenant;
let aCompleted: string;
let aQueued: string;
let bCompleted: string;
/** One pooled connection only, so "the next query" runs on the connection the read used. */
let single: Db;

beforeAll(async () => {
  a = await createTestTenant(env.db);
  b = await createTestTenant(env.db);
  aCompleted = await insertJob(env.db, a.tenantId, { status: 'completed' });
  aQueued = await insertJob(env.db, a.tenantId);
  bCompleted = await insertJob(env.db, b.tenantId, { status: 'completed' });
  await env.db('job_results').insert([
    { job_id: aCompleted, tenant_id: a.tenantId, result: { clusters: 3 } },
    { job_id: bCompleted, tenant_id: b.tenantId, result: { clusters: 9 } },
  ]);
  single = createDb({ url: env.env.DATABASE_URL as string, poolMax: 1 });
});

afterAll(async () => {
  await single?.destroy();
});

const whoAmI = async (db: Db) =>
  (await db.raw(`select current_user as role, coalesce(current_setting('app.tenant_id', true), '') as tenant`)).rows[0] as { role: string; tenant: string };

describe('readAsTenant: one read as a tenant in one round trip', () => {
  it('applies row-level security even when the statement does not name the tenant', async () => {
    const seen = await readAsTenant<{ id: string; tenant_id: string }>(single, a.tenantId, sql`select id, tenant_id from jobs order by id`);
    expect(seen.map((r) => r.tenant_id)).toEqual([a.tenantId, a.tenantId]);
    expect(await readAsTenant(single, a.tenantId, sql`select id from jobs where id = ${bCompleted}`)).toEqual([]);
    expect(await readAsTenant(single, a.tenantId, sql`select job_id from job_results where job_id = ${bCompleted}`)).toEqual([]);
    const [role] = await readAsTenant<{ role: string; tenant: string }>(
      single,
      a.tenantId,
      sql`select current_user as role, current_setting('app.tenant_id') as tenant`,
    );
    expect(role).toEqual({ role: APP_ROLE, tenant: a.tenantId });
  });

  it('leaves no role or tenant behind on the pooled connection, after a read or a failed one', async () => {
    const owner = await whoAmI(single);
    expect(owner.role).not.toBe(APP_ROLE);
    await readAsTenant(single, a.tenantId, sql`select 1`);
    expect(await whoAmI(single)).toEqual(owner);
    await expect(readAsTenant(single, a.tenantId, sql`select 1 / 0`)).rejects.toThrow(/division by zero/);
    expect(await whoAmI(single)).toEqual(owner);
    // The connection is still usable, and a later read sees the next tenant only.
    const rows = await readAsTenant<{ tenant_id: string }>(single, b.tenantId, sql`select tenant_id from jobs`);
    expect(rows.map((r) => r.tenant_id)).toEqual([b.tenantId]);
    expect(await whoAmI(single)).toEqual(owner);
  });

  it('sends the settings and the statement as one query', async () => {
    // The first read on a connection prepares the statement; every read after it is one query.
    await readJobWithResult(single, a.tenantId, aQueued);
    const query = vi.spyOn(pg.Client.prototype, 'query');
    try {
      expect(await readJobWithResult(single, a.tenantId, aCompleted)).toMatchObject({ id: aCompleted, result: { clusters: 3 } });
      expect(query).toHaveBeenCalledTimes(1);
    } finally {
      query.mockRestore();
    }
  });

  it('escapes every value: a quote cannot end a literal', async () => {
    const hostile = `x' or '1'='1`;
    expect(await readAsTenant(single, a.tenantId, sql`select id from jobs where id::text = ${hostile}`)).toEqual([]);
    expect(await readAsTenant<{ v: string }>(single, a.tenantId, sql`select ${hostile} as v`)).toEqual([{ v: hostile }]);
    await expect(readAsTenant(single, `${a.tenantId}'; reset role; --`, sql`select 1`)).rejects.toThrow(/uuid/);
  });
});

describe('readJobWithResult', () => {
  it('reads a job with its result once completed, and nothing of another tenant', async () => {
    expect(await readJobWithResult(env.db, a.tenantId, aCompleted)).toMatchObject({ id: aCompleted, status: 'completed', result: { clusters: 3 } });
    expect(await readJobWithResult(env.db, a.tenantId, aQueued)).toMatchObject({ id: aQueued, status: 'queued', result: null });
    expect(await readJobWithResult(env.db, a.tenantId, bCompleted)).toBeUndefined();
  });

  it('is a prepared statement, planned once per connection, executed behind the tenant switch', async () => {
    const fresh = createDb({ url: env.env.DATABASE_URL as string, poolMax: 1 });
    const query = vi.spyOn(pg.Client.prototype, 'query');
    let sent: string[];
    try {
      for (const id of [aCompleted, aQueued, aCompleted]) await readJobWithResult(fresh, a.tenantId, id);
      sent = query.mock.calls.map(([text]) => (typeof text === 'string' ? text : String((text as { text?: unknown }).text)));
    } finally {
      query.mockRestore();
      await fresh.destroy();
    }
    expect(sent.filter((text) => text.startsWith('prepare '))).toHaveLength(1);
    // A new connection's own setup (knex asks the server's version) aside.
    const runs = sent.filter((text) => !text.startsWith('prepare ') && text !== 'select version();');
    expect(runs).toHaveLength(3);
    for (const text of runs) expect(text).toMatch(/^select set_config\('role'.*; execute "catalytic_read_job_v1"\('[0-9a-f-]{36}', '[0-9a-f-]{36}'\)$/s);
  });

  it('reads through row-level security: another tenant named in the arguments reads nothing', async () => {
    const as = (tenant: string, named: string, id: string) => executeAsTenant(single, tenant, READ_JOB_WITH_RESULT, [sql`${named}`, sql`${id}`]);
    expect(await as(a.tenantId, b.tenantId, bCompleted)).toEqual([]);
    expect(await as(b.tenantId, b.tenantId, bCompleted)).toHaveLength(1);
    // The tenant in the WHERE clause as well: a's switch and a's name do not reach b's job.
    expect(await as(a.tenantId, a.tenantId, bCompleted)).toEqual([]);
  });

  it('carries the row’s state version', async () => {
    const [row] = (await env.db('jobs').where({ id: aCompleted }).select('state_version')) as Array<{ state_version: number }>;
    expect((await readVersionedJob(single, a.tenantId, aCompleted))?.version).toBe(row?.state_version);
  });

  it('answers GET /api/jobs/:id and /result for the owner, 404 for another tenant', async () => {
    const own = await api.request(`/api/jobs/${aCompleted}`, { headers: a.headers });
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ id: aCompleted, status: 'completed', result: { clusters: 3 }, links: { self: `/api/jobs/${aCompleted}` } });
    const result = await api.request(`/api/jobs/${aCompleted}/result`, { headers: a.headers });
    expect(await result.json()).toEqual({ clusters: 3 });
    const running = await api.request(`/api/jobs/${aQueued}/result`, { headers: a.headers });
    expect(running.status).toBe(409);
    for (const path of [`/api/jobs/${bCompleted}`, `/api/jobs/${bCompleted}/result`]) {
      const res = await api.request(path, { headers: a.headers });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('not_found');
    }
  });
});
