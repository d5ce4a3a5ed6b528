/**
 * `node --import tsx bench/load/list-read-cost.ts [-- --rounds N --reads N --jobs N]`: what one
 * `GET /api/jobs?limit=10` page read (`listJobs`: a prepared page, list-statements.ts) costs
 * PostgreSQL and the API process, against the same page planned each time (`list_planned`, as
 * lists were), the same for a page filtered by status (`list_status`, `list_status_planned`), the
 * page after a cursor, a job poll's read (`readVersionedJob`, a cache
 * miss, prepared) against the same read planned each time (`poll_miss_planned`, as before), and one
 * submission's write on a plan with monthly quotas far from its limits in one round trip
 * (`submit_quotas`, quota-insert-statement.ts) against the transaction it replaced
 * (`submit_transaction`), on one pooled connection of a fresh database
 * (one enterprise tenant with `--jobs` jobs, nine in ten completed with a result, analysed). Rounds
 * alternate the two; the report per read: wall time, the backend's CPU (from /proc: PostgreSQL
 * must run on this machine) and this process's CPU, and PostgreSQL's planning and execution time
 * of the page's statement (EXPLAIN ANALYZE as the tenant). JSON on stdout.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { READ_JOB_WITH_RESULT, readVersionedJob } from '../../api/jobs/job-reads.ts';
import { computeRoom, jobsRoom, quotaExactMargin } from '../../api/jobs/submit-quota.ts';
import { writeJobsWithinQuotas } from '../../shared/jobs/quota-insert-statement.ts';
import { insertJobs } from '../../shared/jobs/repository.ts';
import type { Plan } from '../../shared/plans.ts';
import { recordUsage, USAGE_METRICS } from '../../shared/usage.ts';
import { parseConfig } from '../../shared/config.ts';
import { APP_ROLE, createDb, readAsTenant, sql, withTenant } from '../../shared/db.ts';
import { writeJobsAsTenant } from '../../shared/jobs/insert-statement.ts';
import { listJobs, type NewJob } from '../../shared/jobs/repository.ts';
import { pageText } from '../../shared/jobs/list-statements.ts';
import { cpuMs, ownCpuMs } from '../support/process-stats.ts';
import { BenchStack } from '../support/stack.ts';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, reads: { type: 'string', default: '400' }, jobs: { type: 'string', default: '3000' } },
});
const ROUNDS = Number(args.rounds);
const READS = Number(args.reads);
const JOBS = Number(args.jobs);
const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';
const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

const stack = new BenchStack({ serverUrl: SERVER_URL, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', name: 'listread', credentialPerSecond: 1 });
await stack.start();
// As the API's pool: sessions run as the application role.
const db = createDb({ url: stack.databaseUrl, poolMax: 1, sessionRole: APP_ROLE });
try {
  const [tenant] = await stack.tenants(1);
  const tenantId = (tenant as { tenantId: string }).tenantId;
  const job = (i: number): NewJob => ({
    id: randomUUID(), tenantId, latticeId: null, latticeVersionId: null, type: 'shortest_path',
    lattice: { shape: [8, 8], boundary: 'open', obstacles: { density: 0.1, seed: 1 } }, params: { start: [0, 0], end: [7, i % 8] },
    cells: 64, memoryBytes: 4096, computeUnits: 64, maxAttempts: 3, idempotencyKey: null, requestHash: null, labels: null, artefacts: null,
  });
  const ids: string[] = [];
  for (let n = 0; n < JOBS; n += 100) {
    const batch = Array.from({ length: Math.min(100, JOBS - n) }, (_, i) => job(n + i));
    await writeJobsAsTenant(db, tenantId, batch);
    ids.push(...batch.map((j) => j.id));
  }
  // Nine in ten finished with a small result, as the load benchmark's tiny shortest_path jobs.
  await stack.db.raw(
    `with done as (update jobs set status = 'completed', started_at = now(), finished_at = now(), state_version = state_version + 2
                    where tenant_id = ? and random() < 0.9 returning id, tenant_id)
     insert into job_results (job_id, tenant_id, result) select id, tenant_id, '{"length": 14, "reachable": true, "path_cells": 15}'::jsonb from done`,
    [tenantId],
  );
  await stack.db.raw('analyze jobs; analyze job_results');
  const explain = (await withTenant(db, tenantId, async (trx) => {
    const text = `explain (analyze, buffers, format json) select j.id from (select j.id, j.tenant_id, j.status, j.created_at from jobs j where j.tenant_id = '${tenantId}'
      order by j.created_at desc, j.id desc limit 11) j left join job_results r on r.job_id = j.id and r.tenant_id = j.tenant_id and j.status = 'completed'`;
    return (await trx.raw(text)) as { rows: Array<{ 'QUERY PLAN': Array<{ 'Planning Time': number; 'Execution Time': number }> }> };
  })).rows[0]?.['QUERY PLAN'][0];
  // Monthly quotas far from their limits: the jobs lock is not taken, the compute lock is.
  const quotas = { jobs_per_month: 1_000_000_000, compute_units_per_month: 1_000_000_000_000 } as Plan;
  const margin = quotaExactMargin(parseConfig({}));
  const backend = Number(((await db.raw('select pg_backend_pid() as pid')) as { rows: Array<{ pid: number }> }).rows[0]?.pid);
  let turn = 0;
  const cursor = (await listJobs(db, tenantId, { limit: 10 })).next;
  if (!cursor) throw new Error('no second page');
  const ways = {
    list: async () => {
      await listJobs(db, tenantId, { limit: 10 });
    },
    list_planned: async () => {
      await readAsTenant(db, tenantId, { text: pageText(sql`j.tenant_id = ${tenantId}`.text, 11) });
    },
    // A filtered page (status), prepared since filtered lists are, against the same page planned each time.
    list_status: async () => {
      await listJobs(db, tenantId, { limit: 10, status: 'completed' });
    },
    list_status_planned: async () => {
      await readAsTenant(db, tenantId, { text: pageText(sql`j.tenant_id = ${tenantId} and j.status = ${'completed'}`.text, 11) });
    },
    list_after: async () => {
      await listJobs(db, tenantId, { limit: 10, after: cursor });
    },
    poll_miss: async () => {
      await readVersionedJob(db, tenantId, ids[turn++ % ids.length] as string);
    },
    poll_miss_planned: async () => {
      const id = ids[turn++ % ids.length] as string;
      await readAsTenant(db, tenantId, { text: READ_JOB_WITH_RESULT.text.replace('$1', sql`${tenantId}`.text).replace('$2', sql`${id}`.text) });
    },
    submit_quotas: async () => {
      await writeJobsWithinQuotas(db, tenantId, { jobsPerMonth: quotas.jobs_per_month, computeUnitsPerMonth: quotas.compute_units_per_month, exactMargin: margin }, [job(turn++)]);
    },
    // What submit-writer.ts's transaction did for an inline submission on such a plan.
    submit_transaction: async () => {
      const one = job(turn++);
      await withTenant(db, tenantId, async (trx) => {
        await jobsRoom(trx, tenantId, quotas, 1, { margin });
        await computeRoom(trx, tenantId, quotas, [one.computeUnits]);
        await insertJobs(trx, [one]);
        await recordUsage(trx, tenantId, USAGE_METRICS.computeUnits, one.computeUnits);
      });
    },
  };
  type Way = keyof typeof ways;
  const runs: Array<{ way: Way; wall_ms: number; postgres_cpu_ms: number; node_cpu_ms: number }> = [];
  for (const way of Object.keys(ways) as Way[]) for (let i = 0; i < 50; i++) await ways[way]();
  for (let r = 0; r < ROUNDS; r++) {
    const order: Way[] = ['list', 'list_planned', 'list_status', 'list_status_planned', 'list_after', 'poll_miss', 'poll_miss_planned', 'submit_quotas', 'submit_transaction'];
    for (const way of r % 2 === 0 ? order : [...order].reverse()) {
      const pg0 = cpuMs(backend) ?? NaN;
      const own0 = ownCpuMs();
      const t0 = performance.now();
      for (let i = 0; i < READS; i++) await ways[way]();
      runs.push({
        way,
        wall_ms: round((performance.now() - t0) / READS),
        postgres_cpu_ms: round(((cpuMs(backend) ?? NaN) - pg0) / READS),
        node_cpu_ms: round((ownCpuMs() - own0) / READS),
      });
    }
  }
  const report = {
    load_average: loadavg().map((l) => round(l, 2)),
    jobs: JOBS,
    rounds: ROUNDS,
    reads_per_round: READS,
    page_statement: { planning_ms: explain?.['Planning Time'], execution_ms: explain?.['Execution Time'] },
    runs,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  await db.destroy();
  await stack.stop();
}
