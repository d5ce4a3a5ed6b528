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
import { JOB_BODY_COLUMNS, type JobBodyFields } from '../../shared/jobs/job-body.ts';
import { finishAttempts, recordProgress, startAttempts, startChunk } from '../../shared/jobs/transitions.ts';
import { jobEventBody } from '../../shared/webhooks/job-events.ts';
import { useTestEnvironment } from '../support/context.ts';
import { databaseUrl } from '../support/postgres.ts';
import { createTestTenant } from '../support/tenants.ts';
import { insertEndpoint } from '../webhooks/fixtures.ts';

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

    // The row it returns is the row as it now reads: what followers are told, its tenant and batch.
    for (const [i, id] of [queuedId, runningId, progressedId].entries()) {
      const stored = (await env.db('jobs').where({ id }).first('id', 'tenant_id', 'status', 'progress', 'state_version', 'batch_id')) as Record<string, unknown>;
      const row = ended[i]!.row;
      expect({ id: row.id, tenant_id: row.tenant_id, status: row.status, progress: row.progress, state_version: Number(row.state_version), batch_id: row.batch_id }).toEqual({
        ...stored,
        state_version: Number(stored.state_version),
      });
    }

    // A later write by another writer is raised by the trigger again, from where the final write left it.
    await env.db('jobs').where({ id: runningId }).update({ error: env.db.raw(`'{"code":"internal","message":"y"}'::jsonb`) });
    expect(await version(runningId)).toBe(3);
  });

  it('send back a job body only for rows whose event has an endpoint, and take batch deliveries only when one listens', async () => {
    const [heard, unheard] = await Promise.all([createTestTenant(env.db), createTestTenant(env.db)]);
    const endpoint = await insertEndpoint(env.db, heard.tenantId, 'http://127.0.0.1:9/hook', ['job.completed', 'batch.completed']);
    const [a, b] = [await queuedBatch(heard.tenantId, 2), await queuedBatch(unheard.tenantId, 2)];
    const items = [...a.ids.map((jobId) => ({ tenantId: heard.tenantId, jobId })), ...b.ids.map((jobId) => ({ tenantId: unheard.tenantId, jobId }))].map((j) => ({
      ...j,
      attempt: 1,
      status: 'completed' as const,
      result: { reachable: true, length: 3 },
      inChunk: true,
      runMs: 1,
    }));
    const sent: string[] = [];
    const listen = (q: { sql: string }) => void sent.push(q.sql);
    single.on('query', listen);
    let ended: Awaited<ReturnType<typeof finishAttempts>>;
    try {
      ended = await single.transaction((trx) => finishAttempts(trx, items, 'test-worker'));
    } finally {
      single.off('query', listen);
    }
    // The heard tenant's jobs: one job.completed delivery each, the first also its batch's.
    const deliveries = (await env.db('webhook_deliveries').where({ webhook_id: endpoint.id }).select('id', 'job_id', 'event_type', 'payload')) as Array<{
      id: string;
      job_id: string | null;
      event_type: string;
      payload: { data: { job?: Record<string, unknown> } };
    }>;
    const batchDelivery = deliveries.find((d) => d.event_type === 'batch.completed');
    expect(batchDelivery).toBeDefined();
    expect(ended[0]?.deliveryIds.sort()).toEqual([deliveries.find((d) => d.job_id === a.ids[0])!.id, batchDelivery!.id].sort());
    expect(ended[1]?.deliveryIds).toEqual([deliveries.find((d) => d.job_id === a.ids[1])!.id]);
    expect(ended.slice(2).map((e) => e?.deliveryIds)).toEqual([[], []]);
    // Each event's job body is the whole body of the row as it now reads.
    for (const id of a.ids) {
      const stored = (await env.db('jobs').where({ id }).first(...JOB_BODY_COLUMNS)) as JobBodyFields;
      const payload = deliveries.find((d) => d.job_id === id)!.payload;
      expect(payload.data.job).toEqual(JSON.parse(JSON.stringify(jobEventBody(stored, { reachable: true, length: 3 }))));
    }
    // The batch deliveries were asked for, as one tenant has an endpoint for them.
    expect(sent.some((sql) => sql.includes('catalytic.batch_deliveries'))).toBe(true);

    // A group of the unheard tenant alone: no bodies, and the batch deliveries are not asked for.
    const c = await queuedBatch(unheard.tenantId, 2);
    sent.length = 0;
    single.on('query', listen);
    try {
      const alone = await single.transaction((trx) => finishAttempts(trx, c.ids.map((jobId) => ({ ...items[2]!, jobId })), 'test-worker'));
      expect(alone.map((e) => e?.row.status)).toEqual(['completed', 'completed']);
      expect(alone.map((e) => (e?.row as unknown as Record<string, unknown>).created_at)).toEqual([null, null]);
    } finally {
      single.off('query', listen);
    }
    expect(sent.some((sql) => sql.includes('catalytic.batch_deliveries'))).toBe(false);
    expect(Number((await env.db('batches').where({ id: c.batchId }).first('unfinished'))?.unfinished)).toBe(0);
  });
});
