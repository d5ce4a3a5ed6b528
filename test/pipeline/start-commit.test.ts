/**
 * The worker's start write commits without waiting for its WAL flush (on this path the flush was
 * most of a small job's run_ms), and only it: the setting is local to the start's transaction,
 * so the next transaction on the same connection — a job's final write — commits synchronously.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../shared/db.ts';
import { finishAttempts, startAttempts } from '../../shared/jobs/transitions.ts';
import type { JobRow } from '../../shared/jobs/types.ts';
import { useTestEnvironment } from '../support/context.ts';
import { databaseUrl } from '../support/postgres.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
let single: Db;
beforeAll(() => {
  // One connection, so every statement below runs on the connection the start used.
  single = createDb({ url: databaseUrl(env.databaseName), poolMax: 1 });
});
afterAll(() => single?.destroy());

type Setting = { rows: Array<{ value: string }> };
const SYNCHRONOUS_COMMIT = `select current_setting('synchronous_commit') as value`;

async function queuedJob(tenantId: string): Promise<JobRow> {
  const [row] = (await env.db('jobs')
    .insert({ tenant_id: tenantId, type: 'shortest_path', lattice: { shape: [4, 4] }, params: { start: [0, 0], end: [3, 3] }, cells: 16 })
    .returning('*')) as JobRow[];
  return row!;
}

describe('the start write', () => {
  it('commits asynchronously, and leaves the final write on the same connection synchronous', async () => {
    const tenant = await createTestTenant(env.db);
    const job = await queuedJob(tenant.tenantId);
    expect(((await single.raw(SYNCHRONOUS_COMMIT)) as Setting).rows[0]?.value).toBe('on');

    // Inside one transaction the start's setting is still visible after its statement.
    const inStart = await single.transaction(async (trx) => {
      const [started] = await startAttempts(trx, 'test-worker', [{ tenantId: tenant.tenantId, jobId: job.id }]);
      expect(started).toMatchObject({ id: job.id, status: 'running', attempts: 1, worker_id: 'test-worker' });
      return ((await trx.raw(SYNCHRONOUS_COMMIT)) as Setting).rows[0]?.value;
    });
    expect(inStart).toBe('off');

    // As the worker runs it: the start alone, then the final write in a transaction of its own.
    const other = await queuedJob(tenant.tenantId);
    const [started] = await startAttempts(single, 'test-worker', [{ tenantId: tenant.tenantId, jobId: other.id }]);
    expect(started?.status).toBe('running');
    expect(((await single.raw(SYNCHRONOUS_COMMIT)) as Setting).rows[0]?.value).toBe('on');
    const inFinish = await single.transaction(async (trx) => {
      const [finished] = await finishAttempts(trx, [{ tenantId: tenant.tenantId, jobId: other.id, attempt: 1, status: 'completed', result: { ok: true } }]);
      expect(finished?.row.status).toBe('completed');
      return ((await trx.raw(SYNCHRONOUS_COMMIT)) as Setting).rows[0]?.value;
    });
    expect(inFinish).toBe('on');
    const row = (await env.db('jobs').where({ id: other.id }).first('status', 'run_ms')) as { status: string; run_ms: number };
    expect(row.status).toBe('completed');
    expect(row.run_ms).toBeGreaterThanOrEqual(0);
  });
});
