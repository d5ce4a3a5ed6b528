/**
 * The worker's final write of a group of jobs no endpoint hears of is one statement outside a
 * transaction (shared/jobs/transitions.ts › finishUnheardAttempts, worker/job-runner.ts ›
 * writeFinals): it ends their states and stores their results; a group with a job whose tenant has
 * an endpoint for its event or for `batch.completed` is left untouched for the transaction that
 * writes its deliveries, so no event is lost, none is written outside the final state's
 * transaction, and no group is ended in part.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb, type Db } from '../../shared/db.ts';
import { finishUnheardAttempts, HEARD } from '../../shared/jobs/transitions.ts';
import type { JobRow } from '../../shared/jobs/types.ts';
import { type HeldJob, JobRunner, type KernelRunner } from '../../worker/job-runner.ts';
import { useTestEnvironment } from '../support/context.ts';
import { databaseUrl } from '../support/postgres.ts';
import { createTestTenant } from '../support/tenants.ts';
import { insertEndpoint } from '../webhooks/fixtures.ts';
import { testHeldEntry } from './test-job-runner.ts';

const env = useTestEnvironment();
let single: Db;
beforeAll(() => {
  single = createDb({ url: databaseUrl(env.databaseName), poolMax: 1 });
});
afterAll(() => single?.destroy());

/** A job of `tenantId` in `status` (a running one as its first attempt's worker left it). */
async function job(tenantId: string, status = 'running'): Promise<JobRow> {
  const [row] = (await env.db('jobs')
    .insert({ tenant_id: tenantId, type: 'shortest_path', status, lattice: { shape: [4, 4] }, params: { start: [0, 0], end: [3, 3] }, cells: 16, attempts: status === 'running' ? 1 : 0 })
    .returning('*')) as JobRow[];
  return row!;
}

const completion = (row: JobRow) => ({ tenantId: row.tenant_id, jobId: row.id, attempt: 1, status: 'completed' as const, result: { reachable: true }, requireNoCancel: true });
const statusOf = async (id: string) => ((await env.db('jobs').where({ id }).first('status')) as { status: string }).status;
const resultOf = (id: string) => env.db('job_results').where({ job_id: id }).first();
const deliveriesOf = (id: string) => env.db('webhook_deliveries').where({ job_id: id }).select('event_type');

describe('the final write of jobs no endpoint hears of', () => {
  it('ends a group no endpoint hears of in one statement, and leaves a group with a heard job untouched', { timeout: 30_000 }, async () => {
    const [quiet, heard, batchHeard] = await Promise.all([createTestTenant(env.db), createTestTenant(env.db), createTestTenant(env.db)]);
    await insertEndpoint(env.db, heard.tenantId, 'https://example.test/hook', ['job.completed']);
    await insertEndpoint(env.db, batchHeard.tenantId, 'https://example.test/hook', ['batch.completed']);
    // An endpoint that is off, or hears of another event, does not count.
    const off = await insertEndpoint(env.db, quiet.tenantId, 'https://example.test/off', ['job.completed', 'batch.completed']);
    await env.db('webhooks').where({ id: off.id }).update({ enabled: false });
    await insertEndpoint(env.db, quiet.tenantId, 'https://example.test/failed', ['job.failed']);
    const [a, b] = await Promise.all([job(quiet.tenantId), job(quiet.tenantId)]);
    const moved = await job(quiet.tenantId, 'cancelled');

    const answers = await finishUnheardAttempts(env.db, [a!, moved, b!].map(completion), 'test-worker');
    expect(answers).not.toBe(HEARD);
    const rows = answers as Exclude<typeof answers, typeof HEARD>;
    expect(rows.map((answer) => answer?.row.id)).toEqual([a!.id, undefined, b!.id]);
    expect(rows[0]).toMatchObject({ row: { status: 'completed', progress: 1 }, deliveryIds: [] });
    for (const row of [a!, b!]) {
      expect(await statusOf(row.id)).toBe('completed');
      expect(await resultOf(row.id)).toMatchObject({ result: { reachable: true } });
    }
    expect(await statusOf(moved.id)).toBe('cancelled');

    // One heard job (its event, or batch.completed) and the whole group is left to the transaction.
    for (const tenant of [heard, batchHeard]) {
      const [quietJob, heardJob] = await Promise.all([job(quiet.tenantId), job(tenant.tenantId)]);
      expect(await finishUnheardAttempts(env.db, [quietJob!, heardJob!].map(completion), 'test-worker')).toBe(HEARD);
      for (const row of [quietJob!, heardJob!]) {
        expect(await statusOf(row.id)).toBe('running');
        expect(await resultOf(row.id)).toBeUndefined();
      }
    }
    expect(await env.db('webhook_deliveries').whereIn('job_id', [a!.id, b!.id]).select('id')).toEqual([]);
  });

  it('in the worker: a group of unheard jobs takes no transaction; a heard job still gets its delivery with its final state', { timeout: 30_000 }, async () => {
    const [quiet, heard] = await Promise.all([createTestTenant(env.db), createTestTenant(env.db)]);
    await insertEndpoint(env.db, heard.tenantId, 'https://example.test/hook', ['job.completed']);
    const runtime = env.runtime();
    const transactions = vi.spyOn(runtime.db, 'transaction');
    const kernels: KernelRunner = { run: async () => ({ reachable: true }) };
    const runner = new JobRunner({ db: runtime.db, connection: runtime.redis, prefix: env.redisPrefix, workerId: 'test-worker', kernels, logger: runtime.logger, usage: { add: () => undefined } });
    const queued = async (tenantId: string) => (await job(tenantId, 'queued')).id;
    const held = (id: string, tenantId: string, told: string[]): HeldJob => testHeldEntry(id, tenantId, told);

    const quietIds = await Promise.all([queued(quiet.tenantId), queued(quiet.tenantId)]);
    const told: string[] = [];
    await Promise.all(quietIds.map((id) => runner.run(held(id, quiet.tenantId, told))));
    expect(told).toEqual(['completed: completed', 'completed: completed']);
    for (const id of quietIds) expect(await statusOf(id)).toBe('completed');
    expect(transactions).not.toHaveBeenCalled();

    const mixed = [await queued(quiet.tenantId), await queued(heard.tenantId)];
    const tenants = [quiet.tenantId, heard.tenantId];
    await Promise.all(mixed.map((id, i) => runner.run(held(id, tenants[i]!, told))));
    for (const id of mixed) expect(await statusOf(id)).toBe('completed');
    expect(await deliveriesOf(mixed[1]!)).toEqual([{ event_type: 'job.completed' }]);
    expect(await deliveriesOf(mixed[0]!)).toEqual([]);
    // The group with the heard job took a transaction (with its delivery).
    expect(transactions.mock.calls.length).toBeGreaterThanOrEqual(1);
  });

  it('is parsed once per connection and planned with key lookups, whatever the table holds', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    // A few thousand queued rows and no statistics: where a plan for 100 input rows hashed a scan.
    const { rows: queued } = (await env.db.raw(
      `insert into jobs (tenant_id, type, lattice, params, cells)
       select ?, 'shortest_path', '{"shape":[8,8]}', '{"start":[0,0],"end":[7,7]}', 64 from generate_series(1, 4000)
       returning id`,
      [tenant.tenantId],
    )) as { rows: Array<{ id: string }> };
    const group = (at: number) =>
      queued.slice(at, at + 3).map(({ id }) => ({ tenantId: tenant.tenantId, jobId: id, attempt: 1, status: 'completed' as const, result: { reachable: true }, inChunk: true, runMs: 1 }));
    for (let round = 0; round < 8; round++) {
      const answers = await finishUnheardAttempts(single, group(3 * round), 'test-worker');
      expect(answers !== HEARD && answers.every((answer) => answer !== undefined)).toBe(true);
    }
    const connection = (await single.client.acquireConnection()) as { query(sql: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> };
    try {
      const { rows: kept } = await connection.query(
        `select name, generic_plans + custom_plans as runs, generic_plans > 0 as generic from pg_prepared_statements where name like 'catalytic_finish_unheard_%'`,
      );
      // Three jobs a group: the statement made for four, prepared once, run eight times, and
      // planned no more once PostgreSQL settled on its generic plan (after five custom ones).
      expect(kept).toEqual([{ name: 'catalytic_finish_unheard_v1_4', runs: 8, generic: true }]);
      const input = JSON.stringify(group(30).map((item) => ({ id: item.jobId, tenant_id: item.tenantId, attempt: 1, status: 'completed', chunk: true, run_ms: 1 })));
      const { rows: plan } = await connection.query(`explain execute catalytic_finish_unheard_v1_4('${input}', 'test-worker')`);
      const text = plan.map((row) => row['QUERY PLAN']).join('\n');
      expect(text).toContain('jobs_pkey');
      expect(text).not.toMatch(/Seq Scan on jobs/);
    } finally {
      await single.client.releaseConnection(connection as never);
    }
  });
});
