/**
 * The statements a batch job costs PostgreSQL (docs/performance.md › PostgreSQL per batch job):
 * - the chunk take and the final write look their rows up by key, whatever the planner knows of
 *   `jobs`: here a table of thousands of queued rows and no statistics, as a young database has
 *   (the planner otherwise read every queued row per chunk, or hashed a scan of the whole table
 *   per group commit);
 * - the final write raises `state_version` by exactly one itself (the row trigger skips it,
 *   migration 0028), while every other writer still gets the trigger's raise;
 * - the final write returns the job's body, tenant and version as the row now reads.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../shared/db.ts';
import { JOB_BODY_COLUMNS } from '../../shared/jobs/job-body.ts';
import { finishAttempts, recordProgress, startAttempts, startChunk } from '../../shared/jobs/transitions.ts';
import { useTestEnvironment } from '../support/context.ts';
import { databaseUrl } from '../support/postgres.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
let single: Db;
beforeAll(() => {
  single = createDb({ url: databaseUrl(env.databaseName), poolMax: 1 });
});
afterAll(() => single?.destroy());

// Inside the sizes where an estimate of 100 input rows (the default for a set-returning function)
// makes the planner scan the table, and the true 64 makes it look rows up by key.
const ROWS = 8_000;

/** Queued jobs of one new batch, written in one statement; their ids in batch order. */
async function queuedBatch(tenantId: string, count: number): Promise<{ batchId: string; ids: string[] }> {
  const batchId = randomUUID();
  await env.db('batches').insert({ id: batchId, tenant_id: tenantId, total: count, unfinished: count });
  const { rows } = (await env.db.raw(
    `insert into jobs (tenant_id, type, lattice, params, cells, batch_id, batch_index, queue_entry, labels)
     select ?, 'shortest_path', '{"shape":[8,8]}', '{"start":[0,0],"end":[7,7]}', 64, ?, g, ? || '.' || (g / 100), '{"sweep":"p"}'
       from generate_series(0, ? - 1) g
     returning id, batch_index`,
    [tenantId, batchId, batchId, count],
  )) as { rows: Array<{ id: string; batch_index: number }> };
  return { batchId, ids: rows.sort((a, b) => a.batch_index - b.batch_index).map((r) => r.id) };
}

/** The plan PostgreSQL makes of the statement `run` sends on `single`, with the same parameters. */
async function planOf(run: () => Promise<unknown>, match: string): Promise<string> {
  let statement: { sql: string; bindings: unknown[] } | undefined;
  const listen = (q: { sql: string; bindings: unknown[] }) => {
    if (q.sql.includes(match)) statement = q;
  };
  single.on('query', listen);
  try {
    await run();
  } finally {
    single.off('query', listen);
  }
  if (!statement) throw new Error(`no statement with ${match}`);
  const connection = (await single.client.acquireConnection()) as { query(sql: string, values: unknown[]): Promise<{ rows: Array<{ 'QUERY PLAN': string }> }> };
  try {
    const { rows } = await connection.query(`explain ${statement.sql}`, statement.bindings);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await single.client.releaseConnection(connection);
  }
}

describe('a batch job\'s statements', () => {
  it('take a chunk and end its jobs by key lookups on a large table without statistics', async () => {
    const tenant = await createTestTenant(env.db);
    const { batchId, ids } = await queuedBatch(tenant.tenantId, ROWS);
    const chunk = ids.slice(0, 100).map((jobId) => ({ tenantId: tenant.tenantId, jobId }));

    const takePlan = await planOf(() => startChunk(single, 'test-worker', `${batchId}.0`, chunk), 'job_chunks');
    expect(takePlan).toContain('jobs_pkey');
    expect(takePlan).not.toContain('jobs_status_updated');
    expect(takePlan).not.toMatch(/Seq Scan on jobs/);

    const items = chunk.slice(0, 64).map((j) => ({ ...j, attempt: 1, status: 'completed' as const, result: { reachable: true, length: 14 }, inChunk: true, runMs: 1 }));
    const finishPlan = await planOf(() => single.transaction((trx) => finishAttempts(trx, items, 'test-worker')), 'jsonb_to_recordset');
    expect(finishPlan).toContain('jobs_pkey');
    expect(finishPlan).not.toMatch(/Seq Scan on jobs/);
  });

  it('raise the state version by one in the final write, and by the trigger in every other write', async () => {
    const tenant = await createTestTenant(env.db);
    const { ids } = await queuedBatch(tenant.tenantId, 3);
    const [queuedId, runningId, progressedId] = ids as [string, string, string];
    const version = async (id: string) => Number(((await env.db('jobs').where({ id }).first('state_version')) as { state_version: string }).state_version);
    expect(await version(queuedId)).toBe(0);

    // Other writers: the trigger raises the version on a start and on progress.
    await startAttempts(single, 'test-worker', [runningId, progressedId].map((jobId) => ({ tenantId: tenant.tenantId, jobId })));
    expect(await version(runningId)).toBe(1);
    expect(await recordProgress(single, progressedId, 1, 0.5)).toBe(2);
    expect(await version(progressedId)).toBe(2);

    const ended = await single.transaction((trx) =>
      finishAttempts(
        trx,
        [
          { tenantId: tenant.tenantId, jobId: queuedId, attempt: 1, status: 'completed', result: { reachable: true, length: 3 }, inChunk: true, runMs: 2 },
          { tenantId: tenant.tenantId, jobId: runningId, attempt: 1, status: 'failed', error: { code: 'internal', message: 'x' } },
          { tenantId: tenant.tenantId, jobId: progressedId, attempt: 1, status: 'cancelled' },
        ],
        'test-worker',
      ),
    );
    expect(ended.map((e) => e?.row.state_version)).toEqual([1, 2, 3]);
    expect([await version(queuedId), await version(runningId), await version(progressedId)]).toEqual([1, 2, 3]);

    // The row it returns is the row as it now reads: its body, tenant and version.
    for (const [i, id] of [queuedId, runningId, progressedId].entries()) {
      const stored = (await env.db('jobs').where({ id }).first(...JOB_BODY_COLUMNS, 'tenant_id', 'state_version')) as Record<string, unknown>;
      const { webhook_ids: _ids, ...row } = ended[i]!.row as unknown as Record<string, unknown>;
      expect({ ...row, state_version: Number(row.state_version) }).toEqual({ ...stored, state_version: Number(stored.state_version) });
    }

    // A later write by another writer is raised by the trigger again, from where the final write left it.
    await env.db('jobs').where({ id: runningId }).update({ error: env.db.raw(`'{"code":"internal","message":"y"}'::jsonb`) });
    expect(await version(runningId)).toBe(3);
  });
});
