/**
 * `node --import tsx bench/pipeline/batch-trigger-cost.ts [-- --rounds N]`: what the batch counting
 * trigger on `jobs` (migrations/0016_batches.ts, statement-level with transition tables) costs the
 * worker's writes. Each round writes a batch of 1,000 jobs, then starts and finishes them 100 at a
 * time with the worker's own statements (startAttempts, finishAttempts), once with the trigger and
 * once without, alternately, in a fresh database; the report is the time per job of each and their
 * ratio. JSON on stdout.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { insertJobs, type NewJob } from '../../shared/jobs/repository.ts';
import { finishAttempts, startAttempts } from '../../shared/jobs/transitions.ts';
import { PipelineStack } from './stack.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--rounds');
const ROUNDS = at >= 0 ? Number(args[at + 1]) : 10;
const BATCH = 1000;
const CHUNK = 100;
const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';

const stack = new PipelineStack({ serverUrl: SERVER_URL, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', name: 'trigger', credentialPerSecond: 1 });
await stack.start();
try {
  const [tenant] = await stack.tenants(1);
  const tenantId = (tenant as { tenantId: string }).tenantId;
  const { db } = stack;
  const ms = { with: 0, without: 0 };
  for (let round = 0; round < ROUNDS * 2; round++) {
    const trigger = round % 2 === 0;
    await db.raw(`alter table jobs ${trigger ? 'enable' : 'disable'} trigger jobs_count_batch_finishes`);
    const batchId = randomUUID();
    await db('batches').insert({ id: batchId, tenant_id: tenantId, total: BATCH, unfinished: BATCH });
    const jobs: NewJob[] = Array.from({ length: BATCH }, (_, i) => ({
      id: randomUUID(), tenantId, latticeId: null, latticeVersionId: null, type: 'shortest_path', lattice: { shape: [8, 8], boundary: 'open' },
      params: { start: [0, 0], end: [7, i % 8] }, cells: 64, memoryBytes: 0, computeUnits: 64, maxAttempts: 3,
      idempotencyKey: null, requestHash: null, batchId, batchIndex: i, queueEntry: `${batchId}.${Math.floor(i / CHUNK)}`,
    }));
    await db.transaction((trx) => insertJobs(trx, jobs));
    const started = performance.now();
    for (let i = 0; i < BATCH; i += CHUNK) {
      const chunk = jobs.slice(i, i + CHUNK);
      await startAttempts(db, 'bench', chunk.map((j) => ({ tenantId, jobId: j.id })));
      await db.transaction((trx) => finishAttempts(trx, chunk.map((j) => ({ tenantId, jobId: j.id, attempt: 1, status: 'completed' as const, result: { reachable: true, length: 7 } }))));
    }
    ms[trigger ? 'with' : 'without'] += performance.now() - started;
  }
  await db.raw('alter table jobs enable trigger jobs_count_batch_finishes');
  const perJob = (total: number) => Math.round((total / (ROUNDS * BATCH)) * 10_000) / 10_000;
  process.stdout.write(
    `${JSON.stringify({ load_average: loadavg().map((l) => Math.round(l * 100) / 100), rounds: ROUNDS, jobs_per_round: BATCH, statement_rows: CHUNK, ms_per_job: { with_trigger: perJob(ms.with), without_trigger: perJob(ms.without) }, ratio: Math.round((ms.with / ms.without) * 100) / 100 }, null, 2)}\n`,
  );
} finally {
  await stack.stop();
}
