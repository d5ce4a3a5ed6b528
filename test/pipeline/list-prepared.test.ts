/**
 * Prepared job list pages (shared/jobs/list-statements.ts): the newest page and the page after a
 * cursor, unfiltered, are a prepared statement behind the role and tenant switch; they list the
 * same jobs, summaries and cursors as the page planned each time, for every page size the route
 * allows, row-level security still decides what they read, and a job just written is listed.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb, type Db, executeAsTenant, readAsTenant, sql } from '../../shared/db.ts';
import { writeJobsAsTenant } from '../../shared/jobs/insert-statement.ts';
import { pageText, preparedPage } from '../../shared/jobs/list-statements.ts';
import { type ListedJob, listJobs, type NewJob } from '../../shared/jobs/repository.ts';
import type { ListCursor } from '../../shared/list-cursor.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { json, type JobJson } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env);

let a: TestTenant;
let b: TestTenant;
/** One pooled connection, so that statements are prepared and reused on it. */
let single: Db;

function newJob(tenantId: string, i: number): NewJob {
  return {
    id: randomUUID(), tenantId, latticeId: null, latticeVersionId: null, type: i % 3 === 0 ? 'components' : 'shortest_path', lattice: { shape: [8, 8], boundary: 'open' },
    params: i % 3 === 0 ? {} : { start: [0, 0], end: [7, i % 8] }, cells: 64, memoryBytes: 4096, computeUnits: 64, maxAttempts: 3, idempotencyKey: null, requestHash: null,
  };
}

/** `count` jobs in writes of random sizes: rows of one write share their `created_at`, so ties are ordered by id. */
async function seed(tenantId: string, count: number): Promise<void> {
  for (let n = 0; n < count; ) {
    const size = Math.min(count - n, 1 + Math.floor(Math.random() * 6));
    await writeJobsAsTenant(single, tenantId, Array.from({ length: size }, (_, i) => newJob(tenantId, n + i)));
    n += size;
  }
  // About half completed with a result, so summaries are joined.
  await env.db.raw(
    `with done as (update jobs set status = 'completed', state_version = state_version + 2 where tenant_id = ? and random() < 0.5 returning id, tenant_id)
     insert into job_results (job_id, tenant_id, result) select id, tenant_id, jsonb_build_object('length', (random() * 100)::int, 'path', '[[0,0]]'::jsonb) from done`,
    [tenantId],
  );
}

/** The page as planned each time (the text lists ran before they were prepared). */
async function plannedPage(tenantId: string, limit: number, after?: ListCursor): Promise<{ rows: ListedJob[]; next?: ListCursor }> {
  const where = [sql`j.tenant_id = ${tenantId}`, ...(after ? [sql`(j.created_at, j.id) < (${after.at}::timestamptz, ${after.id}::uuid)`] : [])];
  const rows = await readAsTenant<ListedJob>(single, tenantId, { text: pageText(where.map((w) => w.text).join(' and '), limit + 1) });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > limit && last ? { at: last.cursor_at, id: last.id } : undefined };
}

beforeAll(async () => {
  single = createDb({ url: env.env.DATABASE_URL as string, poolMax: 1 });
  a = await createTestTenant(env.db, { plan: 'enterprise' });
  b = await createTestTenant(env.db, { plan: 'enterprise' });
  await seed(a.tenantId, 137);
  await seed(b.tenantId, 40);
});

afterAll(async () => {
  await single?.destroy();
});

describe('prepared job list pages', () => {
  it('list every job once, newest first, with the planned page’s rows and cursors, at every page size', async () => {
    const all = (await env.db('jobs').where({ tenant_id: a.tenantId }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).select('id')) as Array<{ id: string }>;
    const limits = [1, 2, 9, 10, 11, 19, 20, 21, 49, 50, 51, 99, 100, ...Array.from({ length: 5 }, () => 1 + Math.floor(Math.random() * 100))];
    for (const limit of limits) {
      const seen: string[] = [];
      let after: ListCursor | undefined;
      for (let pages = 0; pages < 200; pages++) {
        const page = await listJobs(single, a.tenantId, { limit, after });
        expect(page).toEqual(await plannedPage(a.tenantId, limit, after));
        expect(page.rows.length).toBeLessThanOrEqual(limit);
        seen.push(...page.rows.map((row) => row.id));
        after = page.next;
        if (!after) break;
      }
      expect(seen, `limit ${limit}`).toEqual(all.map((row) => row.id));
    }
  });

  it('carry the result summary of completed jobs and none of other ones', async () => {
    const { rows } = await listJobs(single, a.tenantId, { limit: 100 });
    const results = new Map(((await env.db('job_results').where({ tenant_id: a.tenantId }).select('job_id', 'result')) as Array<{ job_id: string; result: { length: number } }>).map((r) => [r.job_id, r.result]));
    expect(rows.some((row) => row.status === 'completed')).toBe(true);
    for (const row of rows) {
      if (row.status === 'completed') expect(row.result_summary).toEqual({ length: results.get(row.id)?.length });
      else expect(row.result_summary).toBeNull();
    }
  });

  it('are one EXECUTE behind the tenant switch, filtered or not', async () => {
    const query = vi.spyOn(pg.Client.prototype, 'query');
    let sent: string[];
    try {
      const first = await listJobs(single, a.tenantId, { limit: 20 });
      await listJobs(single, a.tenantId, { limit: 20, after: first.next });
      await listJobs(single, a.tenantId, { limit: 20, status: 'completed' });
      sent = query.mock.calls.map(([text]) => (typeof text === 'string' ? text : String((text as { text?: unknown }).text)));
    } finally {
      query.mockRestore();
    }
    const runs = sent.filter((text) => !text.startsWith('prepare '));
    expect(runs).toHaveLength(3);
    expect(runs[0]).toMatch(/^select set_config\('role'.*; execute "catalytic_list_jobs_v1_21"\('[0-9a-f-]{36}'\)$/s);
    expect(runs[1]).toMatch(/^select set_config\('role'.*; execute "catalytic_list_jobs_after_v1_21"\(/s);
    expect(runs[2]).toMatch(/^select set_config\('role'.*; execute "catalytic_list_jobs_s_v1_21"\('[0-9a-f-]{36}', 'completed'\)$/s);
  });

  it('read through row-level security: another tenant’s id as the argument lists nothing', async () => {
    for (const after of [false, true]) {
      const prepared = preparedPage(10, after);
      if (!prepared) throw new Error('no prepared page of 10');
      const cursor = [sql`${new Date(Date.now() + 60_000).toISOString()}`, sql`${'ffffffff-ffff-4fff-bfff-ffffffffffff'}`];
      const args = (tenantId: string) => [sql`${tenantId}`, ...(after ? cursor : [])];
      expect(await executeAsTenant(single, a.tenantId, prepared.statement, args(b.tenantId))).toEqual([]);
      expect((await executeAsTenant(single, b.tenantId, prepared.statement, args(b.tenantId))).length).toBe(11);
    }
    const listed = await listJobs(single, b.tenantId, { limit: 100 });
    const own = new Set(((await env.db('jobs').where({ tenant_id: b.tenantId }).select('id')) as Array<{ id: string }>).map((r) => r.id));
    expect(listed.rows).toHaveLength(40);
    for (const row of listed.rows) expect(own.has(row.id)).toBe(true);
  });

  it('list a job the moment its submission is answered (GET /api/jobs)', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    for (let i = 0; i < 4; i++) {
      const submitted = await json<JobJson>(await api.request('/api/jobs', { body: { type: 'shortest_path', lattice: { shape: [8, 8] }, params: { start: [0, 0], end: [7, i] } }, headers: tenant.headers }));
      const page = await json<{ data: Array<{ id: string }> }>(await api.request('/api/jobs?limit=10', { headers: tenant.headers }));
      expect(page.data[0]?.id).toBe(submitted.id);
      expect(page.data).toHaveLength(i + 1);
    }
  });
});
