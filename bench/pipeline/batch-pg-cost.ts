/**
 * `node --import tsx bench/pipeline/batch-pg-cost.ts [-- --rounds N] [-- --group N] [-- --explain 1] [-- --setup SQL]`: what a tiny
 * batch job costs PostgreSQL, apart from the rest of the stack. Each round writes a batch of 1,000
 * jobs as the API does (one `withTenant` transaction: the batch row, `insertKeylessJobs`, the
 * compute units), then ends them as a worker does: each chunk of 100 taken with `startChunk`, its
 * jobs completed `--group` at a time (64, the worker's WORKER_WRITE_BATCH_MAX) with
 * `finishAttempts` in chunk form, with a shortest path's result and its path kept in the row. The
 * report is the CPU of the PostgreSQL backend that ran each side (from /proc, so PostgreSQL must
 * run on this machine), the WAL written, per job, and, when the server loads
 * pg_stat_statements, the statements that took the most time. JSON on stdout.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { insertBatch } from '../../api/batches/store.ts';
import { withTenant } from '../../shared/db.ts';
import { insertKeylessJobs, type NewJob } from '../../shared/jobs/repository.ts';
import { finishAttempts, startChunk } from '../../shared/jobs/transitions.ts';
import { recordUsage, USAGE_METRICS } from '../../shared/usage.ts';
import { PgCostMeter } from './pg-cost-meter.ts';
import { PipelineStack } from './stack.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const ROUNDS = option('rounds', 10);
const GROUP = option('group', 64);
/** `--explain 1`: the plans of the worker's statements in the last round (auto_explain, as notices on stderr). */
const EXPLAIN = option('explain', 0) === 1;
/** `--setup SQL`: run on the fresh database after its migrations, to weigh a change of schema (an index or a trigger dropped) before writing its migration. */
const SETUP = ((at) => (at >= 0 ? args[at + 1] : undefined))(args.indexOf('--setup'));
const BATCH = 1000;
const CHUNK = 100;
const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';

const stack = new PipelineStack({ serverUrl: SERVER_URL, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', name: 'pgcost', credentialPerSecond: 1 });
await stack.start();
const meter = await PgCostMeter.open(stack);
const { api, worker } = meter;
try {
  const [tenant] = await stack.tenants(1);
  if (SETUP) await stack.db.raw(SETUP);
  const tenantId = (tenant as { tenantId: string }).tenantId;
  const statements = await stack.db
    .raw(`select 1 from pg_settings where name = 'shared_preload_libraries' and setting like '%pg_stat_statements%'`)
    .then((r: { rows: unknown[] }) => r.rows.length > 0);
  if (statements) await stack.db.raw('create extension if not exists pg_stat_statements');

  const path = Array.from({ length: 15 }, (_, i) => (i < 8 ? [i, 0] : [7, i - 7]));
  const result = { reachable: true, length: 14, visited: 64, path, artefacts: { path: 'inline' } };
  const bytes = Buffer.alloc(15 * 4, 7).toString('base64');
  const inline = { path: { meta: { dtype: '<u4', shape: [15], fortranOrder: false }, size: 188, sha256: 'a'.repeat(64), data: bytes } };

  const round = async (measured: boolean) => {
    const batchId = randomUUID();
    const jobs: NewJob[] = Array.from({ length: BATCH }, (_, i) => ({
      id: randomUUID(), tenantId, latticeId: null, latticeVersionId: null, type: 'shortest_path', lattice: { shape: [8, 8], boundary: 'open' },
      params: { start: [0, 0], end: [7, i % 8] }, cells: 64, memoryBytes: 4096, computeUnits: 1, maxAttempts: 3,
      idempotencyKey: null, requestHash: null, batchId, batchIndex: i, labels: null, artefacts: null, queueEntry: `${batchId}.${Math.floor(i / CHUNK)}`,
    }));
    const submit = () =>
      withTenant(api, tenantId, async (trx) => {
        await insertBatch(trx, { id: batchId, tenantId, total: BATCH, labels: {}, idempotencyKey: null, requestHash: null });
        await insertKeylessJobs(trx, jobs);
        await recordUsage(trx, tenantId, USAGE_METRICS.computeUnits, BATCH);
      });
    const finish = async () => {
      for (let c = 0; c < BATCH; c += CHUNK) {
        const chunk = jobs.slice(c, c + CHUNK);
        const taken = await startChunk(worker, 'bench', `${batchId}.${c / CHUNK}`, chunk.map((j) => ({ tenantId, jobId: j.id })));
        for (let g = 0; g < chunk.length; g += GROUP) {
          const items = chunk.slice(g, g + GROUP).map((j) => ({
            tenantId, jobId: j.id, attempt: taken.attempt, status: 'completed' as const, result, requireNoCancel: true, inlineArtefacts: inline, inChunk: true, runMs: 1,
          }));
          const ended = await worker.transaction((trx) => finishAttempts(trx, items, 'bench'));
          if (ended.some((e) => !e)) throw new Error('a job was not completed');
        }
      }
    };
    await meter.round(measured, submit, finish);
  };
  await round(false);
  await stack.db.raw('checkpoint');
  if (statements) await stack.db.raw('select pg_stat_statements_reset()');
  for (let r = 0; r < ROUNDS; r++) {
    if (EXPLAIN && r === ROUNDS - 1) {
      // The one connection of the worker side: its notices are the plans (trigger statements included).
      const conn = (await worker.client.acquireConnection()) as { on(event: 'notice', listener: (n: { message?: string }) => void): void };
      conn.on('notice', (notice) => void process.stderr.write(`${notice.message ?? ''}\n\n`));
      await worker.client.releaseConnection(conn);
      await worker.raw(
        `load 'auto_explain'; set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on; set auto_explain.log_buffers = on;
         set auto_explain.log_nested_statements = on; set auto_explain.log_triggers = on; set auto_explain.log_level = notice`,
      );
    }
    await round(true);
  }
  const [batch] = (await stack.db('batches').whereNotNull('completed_at').count({ n: '*' })) as Array<{ n: string }>;
  if (Number(batch?.n) !== ROUNDS + 1) throw new Error(`${batch?.n} batches completed, not ${ROUNDS + 1}`);
  const n = ROUNDS * BATCH;
  const top = statements
    ? ((
        await stack.db.raw(
          `select round((total_exec_time / ?)::numeric, 4) as exec_ms_per_job, round((total_plan_time / ?)::numeric, 4) as plan_ms_per_job, calls, round((wal_bytes / ?)::numeric) as wal_bytes_per_job,
                  left(regexp_replace(query, '\\s+', ' ', 'g'), 100) as query
             from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
            order by total_exec_time desc limit 12`,
          [n, n, n],
        )
      ).rows as unknown[])
    : undefined;
  process.stdout.write(
    `${JSON.stringify(
      {
        load_average: loadavg().map((l) => Math.round(l * 100) / 100),
        rounds: ROUNDS,
        jobs: n,
        group: GROUP,
        ...meter.perJob(n),
        ...(top ? { statements: top } : {}),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await meter.close();
  await stack.stop();
}
