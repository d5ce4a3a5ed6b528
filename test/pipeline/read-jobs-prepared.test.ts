/**
 * The worker reads the rows of the single jobs it fetched (shared/jobs/transitions.ts ›
 * readJobsToRun) with a statement prepared once per connection, naming every column: the rows
 * read as the table has them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb, type Db } from '../../shared/db.ts';
import { readJobsToRun } from '../../shared/jobs/transitions.ts';
import type { JobRow } from '../../shared/jobs/types.ts';
import { useTestEnvironment } from '../support/context.ts';
import { databaseUrl } from '../support/postgres.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
let single: Db;
beforeAll(() => {
  single = createDb({ url: databaseUrl(env.databaseName), poolMax: 1 });
});
afterAll(() => single?.destroy());

it('reads queued and running rows whole, with one statement prepared once per connection', { timeout: 30_000 }, async () => {
  const tenant = await createTestTenant(env.db);
  const insert = (row: Partial<JobRow>) =>
    env.db('jobs').insert({ tenant_id: tenant.tenantId, type: 'shortest_path', lattice: { shape: [4, 4] }, params: { start: [0, 0], end: [3, 3] }, cells: 16, ...row }).returning('id');
  const ids: string[] = [];
  for (const row of [{}, { status: 'running', attempts: 1, worker_id: 'w', started_at: new Date() }, { status: 'completed', finished_at: new Date() }, { labels: { sweep: '1' } }]) {
    ids.push(((await insert(row as Partial<JobRow>)) as Array<{ id: string }>)[0]!.id);
  }
  for (let round = 0; round < 3; round++) {
    const rows = await readJobsToRun(single, ids.map((jobId) => ({ tenantId: tenant.tenantId, jobId })));
    const stored = (await env.db('jobs').whereIn('id', ids).select('*')) as JobRow[];
    const byId = new Map(stored.map((row) => [row.id, row]));
    // The completed row is not one to run; the others read as `select *` reads them.
    expect(rows.map((row) => row && { ...row })).toEqual([byId.get(ids[0]!), byId.get(ids[1]!), undefined, byId.get(ids[3]!)]);
  }
  const connection = (await single.client.acquireConnection()) as { query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }> };
  try {
    const { rows } = await connection.query(`select name, generic_plans + custom_plans as runs from pg_prepared_statements`);
    expect(rows).toEqual([{ name: 'catalytic_read_jobs_to_run_v1', runs: 3 }]);
  } finally {
    await single.client.releaseConnection(connection as never);
  }
});
