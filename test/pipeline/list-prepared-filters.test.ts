/**
 * Prepared filtered job list pages (shared/jobs/list-statements.ts): every combination of the
 * list's filters (status, type, batch, created after) is a prepared statement behind the role and
 * tenant switch; one with a label is planned each time. Each combination lists, page after page,
 * the same rows and cursors as the page planned each time and exactly the tenant's jobs that match; row-level security still decides
 * what they read; the statements' names are distinct, bounded and within PostgreSQL's 63 bytes.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb, type Db, executeAsTenant, type LiteralSql, readAsTenant, sql } from '../../shared/db.ts';
import { writeJobsAsTenant } from '../../shared/jobs/insert-statement.ts';
import { LIST_FILTERS, type ListFilter, pageText, preparedPage } from '../../shared/jobs/list-statements.ts';
import { type ListedJob, listJobs, type ListJobsOptions, type NewJob } from '../../shared/jobs/repository.ts';
import type { JobStatus } from '../../shared/jobs/types.ts';
import type { ListCursor } from '../../shared/list-cursor.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();

let a: TestTenant;
let b: TestTenant;
let batch: string;
/** One pooled connection, so that statements are prepared and reused on it. */
let single: Db;

interface Seeded {
  id: string;
  status: string;
  type: string;
  labels: Record<string, string> | null;
  batch_id: string | null;
  /** created_at as the cursor prints it (microseconds, UTC): it sorts as the time does. */
  at: string;
}

/** The filter values every combination is made of; `createdAfter` is set once the jobs exist. */
const values: { status: JobStatus; type: string; labels: Record<string, string>; batchId: string; createdAfter: string } = {
  status: 'completed',
  type: 'components',
  labels: { sweep: 'x' },
  batchId: '',
  createdAfter: '',
};

function newJob(tenantId: string, i: number): NewJob {
  const labels: Record<string, string> | null = i % 4 === 0 ? { sweep: 'x', cell: String(i % 3) } : i % 4 === 1 ? { sweep: 'y' } : i % 4 === 2 ? { sweep: 'x' } : null;
  return {
    id: randomUUID(), tenantId, latticeId: null, latticeVersionId: null, type: i % 3 === 0 ? 'components' : 'shortest_path', lattice: { shape: [8, 8], boundary: 'open' },
    params: i % 3 === 0 ? {} : { start: [0, 0], end: [7, i % 8] }, cells: 64, memoryBytes: 4096, computeUnits: 64, maxAttempts: 3, idempotencyKey: null, requestHash: null,
    labels,
  };
}

/** `count` jobs in writes of random sizes (rows of one write share their `created_at`), a mix of statuses, about half completed with a result. */
async function seed(tenantId: string, count: number, batchId: string): Promise<void> {
  for (let n = 0; n < count; ) {
    const size = Math.min(count - n, 1 + Math.floor(Math.random() * 6));
    await writeJobsAsTenant(single, tenantId, Array.from({ length: size }, (_, i) => newJob(tenantId, n + i)));
    n += size;
  }
  // About two in five of them in the batch.
  await env.db.raw(
    `update jobs j set batch_id = ?, batch_index = s.n from (select id, row_number() over () as n from jobs where tenant_id = ? and random() < 0.4) s where j.id = s.id`,
    [batchId, tenantId],
  );
  await env.db.raw(`update jobs set status = (array['failed', 'cancelled', 'running'])[1 + floor(random() * 3)::int] where tenant_id = ? and random() < 0.3`, [tenantId]);
  await env.db.raw(
    `with done as (update jobs set status = 'completed' where tenant_id = ? and status = 'queued' and random() < 0.6 returning id, tenant_id)
     insert into job_results (job_id, tenant_id, result) select id, tenant_id, jsonb_build_object('length', (random() * 100)::int) from done`,
    [tenantId],
  );
}

async function seeded(tenantId: string): Promise<Seeded[]> {
  const { rows } = await env.db.raw<{ rows: Seeded[] }>(
    `select id, status, type, labels, batch_id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
       from jobs where tenant_id = ? order by created_at desc, id desc`,
    [tenantId],
  );
  return rows;
}

/** The list options of one combination of filters. */
function optionsOf(filters: readonly Filter[], limit: number): ListJobsOptions {
  const options: ListJobsOptions = { limit };
  for (const name of filters) Object.assign(options, { [name]: values[name] });
  return options;
}

/** Whether a job matches the filters (what the page's SQL should select), decided here independently. */
function matches(job: Seeded, filters: readonly Filter[]): boolean {
  return filters.every((name) => {
    switch (name) {
      case 'status':
        return job.status === values.status;
      case 'type':
        return job.type === values.type;
      case 'labels':
        return Object.entries(values.labels).every(([k, v]) => job.labels?.[k] === v);
      case 'batchId':
        return job.batch_id === values.batchId;
      case 'createdAfter':
        return job.at > values.createdAfter;
    }
  });
}

/** The page as planned each time (what filtered lists ran before they were prepared). */
async function plannedPage(tenantId: string, options: ListJobsOptions, after?: ListCursor): Promise<{ rows: ListedJob[]; next?: ListCursor }> {
  const where: LiteralSql[] = [sql`j.tenant_id = ${tenantId}`];
  if (options.status) where.push(sql`j.status = ${options.status}`);
  if (options.type) where.push(sql`j.type = ${options.type}`);
  if (options.labels) where.push(sql`j.labels @> ${JSON.stringify(options.labels)}::jsonb`);
  if (options.batchId) where.push(sql`j.batch_id = ${options.batchId}::uuid`);
  if (options.createdAfter) where.push(sql`j.created_at > ${options.createdAfter}::timestamptz`);
  if (after) where.push(sql`(j.created_at, j.id) < (${after.at}::timestamptz, ${after.id}::uuid)`);
  const rows = await readAsTenant<ListedJob>(single, tenantId, { text: pageText(where.map((w) => w.text).join(' and '), options.limit + 1) });
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > options.limit && last ? { at: last.cursor_at, id: last.id } : undefined };
}

/** A filter of the list: the prepared ones, and labels (planned each time). */
type Filter = ListFilter | 'labels';

/** Every combination of `filters`, the empty one excepted (list-prepared.test.ts walks the unfiltered list). */
function combinations<F extends Filter>(filters: readonly F[]): F[][] {
  return Array.from({ length: 2 ** filters.length - 1 }, (_, mask) => filters.filter((_, bit) => ((mask + 1) >> bit) & 1));
}
const COMBINATIONS = combinations<Filter>([...LIST_FILTERS, 'labels']);
const PREPARED_COMBINATIONS = combinations(LIST_FILTERS);

beforeAll(async () => {
  single = createDb({ url: env.env.DATABASE_URL as string, poolMax: 1 });
  a = await createTestTenant(env.db, { plan: 'enterprise' });
  b = await createTestTenant(env.db, { plan: 'enterprise' });
  const batches = (await env.db('batches').insert([{ tenant_id: a.tenantId, total: 100, unfinished: 100 }, { tenant_id: b.tenantId, total: 100, unfinished: 100 }]).returning('id')) as Array<{ id: string }>;
  batch = (batches[0] as { id: string }).id;
  values.batchId = batch;
  await seed(a.tenantId, 160, batch);
  // The other tenant's jobs match every filter value but the batch (its own).
  await seed(b.tenantId, 60, (batches[1] as { id: string }).id);
  const all = await seeded(a.tenantId);
  values.createdAfter = (all[Math.floor(all.length / 2)] as Seeded).at;
});

afterAll(async () => {
  await single?.destroy();
});

describe('prepared filtered job list pages', () => {
  it('list, for every combination of filters, exactly the matching jobs of the tenant, with the planned page’s rows and cursors', async () => {
    const all = await seeded(a.tenantId);
    const limits = [3, 20, 100, 1 + Math.floor(Math.random() * 100)];
    for (const filters of COMBINATIONS) {
      const expected = all.filter((job) => matches(job, filters)).map((job) => job.id);
      for (const limit of limits) {
        const options = optionsOf(filters, limit);
        const seen: string[] = [];
        let after: ListCursor | undefined;
        for (let pages = 0; pages < 100; pages++) {
          const page = await listJobs(single, a.tenantId, { ...options, after });
          expect(page, `${filters.join('+')} limit ${limit}`).toEqual(await plannedPage(a.tenantId, options, after));
          seen.push(...page.rows.map((row) => row.id));
          after = page.next;
          if (!after) break;
        }
        expect(seen, `${filters.join('+')} limit ${limit}`).toEqual(expected);
      }
    }
    // The values select something, and not everything, for each filter alone.
    for (const name of [...LIST_FILTERS, 'labels'] as const) {
      const n = all.filter((job) => matches(job, [name])).length;
      expect(n, name).toBeGreaterThan(0);
      expect(n, name).toBeLessThan(all.length);
    }
  });

  it('are one EXECUTE of the combination’s statement behind the tenant switch; with a label, planned', async () => {
    // A cursor that surely exists (a page of one of the tenant's jobs), read before the spy.
    const { next: cursor } = await listJobs(single, a.tenantId, { limit: 1 });
    expect(cursor).toBeDefined();
    const query = vi.spyOn(pg.Client.prototype, 'query');
    let sent: string[];
    try {
      await listJobs(single, a.tenantId, optionsOf(['status', 'type'], 20));
      await listJobs(single, a.tenantId, { ...optionsOf(['type', 'batchId', 'createdAfter'], 5), after: cursor });
      await listJobs(single, a.tenantId, optionsOf(['status', 'labels'], 20));
      sent = query.mock.calls.map(([text]) => (typeof text === 'string' ? text : String((text as { text?: unknown }).text)));
    } finally {
      query.mockRestore();
    }
    const runs = sent.filter((text) => !text.startsWith('prepare '));
    expect(runs).toHaveLength(3);
    expect(runs[0]).toMatch(/^select set_config\('role'.*; execute "catalytic_list_jobs_st_v1_21"\('[0-9a-f-]{36}', 'completed', 'components'\)$/s);
    expect(runs[1]).toMatch(/^select set_config\('role'.*; execute "catalytic_list_jobs_tbc_after_v1_11"\('[0-9a-f-]{36}', 'components', '[0-9a-f-]{36}', '[^']+', '[^']+', '[0-9a-f-]{36}'\)$/s);
    // A label filter is planned each time, its values in the text.
    expect(runs[2]).toMatch(/^select set_config\('role'.*; select .* j\.status = 'completed'::text and j\.labels @> '\{"sweep":"x"\}'::jsonb/s);
  });

  it('read through row-level security: another tenant’s jobs never appear, whatever the tenant argument', async () => {
    const own = new Set((await seeded(b.tenantId)).map((job) => job.id));
    for (const filters of PREPARED_COMBINATIONS.filter((f) => !f.includes('batchId'))) {
      for (const after of [false, true]) {
        const prepared = preparedPage(10, after, new Set(filters));
        if (!prepared) throw new Error('no prepared page of 10');
        const filterArgs = LIST_FILTERS.filter((name) => filters.includes(name)).map((name) => sql`${values[name]}`);
        const cursor = after ? [sql`${new Date(Date.now() + 60_000).toISOString()}`, sql`${'ffffffff-ffff-4fff-bfff-ffffffffffff'}`] : [];
        const args = (tenantId: string) => [sql`${tenantId}`, ...filterArgs, ...cursor];
        // As tenant a, asking for b's rows by argument: row-level security answers nothing.
        expect(await executeAsTenant(single, a.tenantId, prepared.statement, args(b.tenantId)), filters.join('+')).toEqual([]);
        // As b, its own rows (every filter value but the batch matches some of them).
        const listed = await executeAsTenant<{ id: string }>(single, b.tenantId, prepared.statement, args(b.tenantId));
        expect(listed.length, filters.join('+')).toBeGreaterThan(0);
        for (const row of listed) expect(own.has(row.id)).toBe(true);
      }
    }
    for (const filters of COMBINATIONS) {
      const page = await listJobs(single, a.tenantId, optionsOf(filters, 100));
      for (const row of page.rows) expect(own.has(row.id), filters.join('+')).toBe(false);
    }
  });

  it('have a distinct name of at most 63 bytes per combination, page size and cursor: 128 at most', () => {
    const names = new Set<string>();
    for (const filters of [[], ...PREPARED_COMBINATIONS]) {
      for (const limit of [1, 10, 11, 20, 21, 50, 51, 100]) {
        for (const after of [false, true]) {
          const prepared = preparedPage(limit, after, new Set(filters));
          if (!prepared) throw new Error(`no prepared page of ${limit}`);
          expect(prepared.rows).toBeGreaterThan(limit);
          expect(Buffer.byteLength(prepared.statement.name)).toBeLessThanOrEqual(63);
          expect(prepared.statement.params).toHaveLength(1 + filters.length + (after ? 2 : 0));
          names.add(`${prepared.statement.name}\n${prepared.statement.text}`);
        }
      }
    }
    const distinctNames = new Set([...names].map((n) => n.split('\n')[0]));
    expect(distinctNames.size).toBe(names.size);
    expect(distinctNames.size).toBe(128);
    expect(preparedPage(101, false, new Set(['status']))).toBeUndefined();
  });
});
