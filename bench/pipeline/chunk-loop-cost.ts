/**
 * `node --import tsx bench/pipeline/chunk-loop-cost.ts [-- --jobs N] [-- --chunk N] [-- --concurrency N] [-- --rounds N] [-- --log-context 1]`:
 * the worker process's own CPU per tiny batch job, apart from the rest of the stack. Batches of
 * 8×8 shortest_path jobs are submitted over HTTP (an API process, no worker: their chunk entries
 * stay queued), then this process runs their chunks through a JobRunner as a worker does
 * (`--concurrency` chunks at once, final states group-committed, Redis told), against the stack's
 * PostgreSQL and Redis. CPU ms per job of this process (process.cpuUsage: the pg client, the
 * runner, the kernels, the group commit's parameters, the publishes; PostgreSQL's own CPU not
 * included), per round. `--log-context 1` runs each chunk inside an AsyncLocalStorage, as
 * pipeline-worker.ts once did (on Node 20, promise hooks for the whole process). JSON on stdout.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { loadavg } from 'node:os';
import type { Job } from 'bullmq';
import { createDb } from '../../shared/db.ts';
import { createLogger } from '../../shared/logger.ts';
import type { PipelineJobData } from '../../shared/queues/tenant-queues.ts';
import { createRedis } from '../../shared/redis.ts';
import { type HeldJob, JobRunner } from '../../worker/job-runner.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { closeClients, postJson } from './http-post.ts';
import { PipelineStack } from './stack.ts';

/** The log context the worker once entered per chunk, for --log-context 1. */
const logContext = new AsyncLocalStorage<{ tenantId: string; jobId: string }>();
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const JOBS = option('jobs', 5000);
const CHUNK = option('chunk', 100);
const CONCURRENCY = option('concurrency', 8);
const ROUNDS = option('rounds', 3);
const LOG_CONTEXT = option('log-context', 0) === 1;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';
const log = (message: string): void => void process.stderr.write(`[chunk-loop-cost] ${message}\n`);
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const batchBody = (size: number, seed: number) =>
  JSON.stringify({
    lattice: { shape: [8, 8] },
    defaults: { type: 'shortest_path', params: { start: [0, 0] } },
    jobs: Array.from({ length: size }, (_, i) => ({ params: { end: [7, (i + seed) % 8] } })),
  });

/** Submits `jobs` jobs in batches of 1,000; answers their chunks (entry id and job ids). */
async function submit(stack: PipelineStack, apiUrl: string, tenant: { tenantId: string; authorization: string }, jobs: number) {
  const chunks: Array<{ id: string; jobIds: string[] }> = [];
  for (let next = 0; next < jobs; next += 1000) {
    const answer = await postJson(new URL('/api/batches', apiUrl), { authorization: tenant.authorization }, batchBody(Math.min(1000, jobs - next), next));
    if (answer.status !== 202) throw new Error(`batch answered ${answer.status}: ${answer.body.slice(0, 300)}`);
    const batchId = (JSON.parse(answer.body) as { id: string }).id;
    const rows = (await stack.db('jobs').where({ batch_id: batchId }).orderBy('batch_index').select('id')) as Array<{ id: string }>;
    for (let at = 0; at < rows.length; at += CHUNK) chunks.push({ id: `${batchId}.b${at / CHUNK}`, jobIds: rows.slice(at, at + CHUNK).map((r) => r.id) });
  }
  return chunks;
}

async function main(): Promise<void> {
  const stack = new PipelineStack({ serverUrl: SERVER_URL, redisUrl: REDIS_URL, name: 'chunkloop', credentialPerSecond: 1_000_000 });
  await stack.start();
  const db = createDb({ url: stack.databaseUrl, poolMax: 12, applicationName: 'catalytic-worker' });
  const connection = createRedis(REDIS_URL);
  const kernels = new KernelPool({ threads: 2, inlineMaxCells: 4096 });
  try {
    const [tenant] = await stack.tenants(1);
    const apiUrl = (await stack.api({ DATABASE_POOL_MAX: '8', BATCH_CHUNK_MAX_JOBS: String(CHUNK) })).url;
    await kernels.start();
    const logger = createLogger({ LOG_LEVEL: 'warn', LOG_PRETTY: false });
    const runner = new JobRunner({ db, connection, prefix: stack.prefix, workerId: 'bench:chunk-loop', kernels, logger, usage: { add: () => undefined }, writeBatchMax: 64 });
    const plan = { code: 'enterprise' as const, weight: 1, max_concurrent_jobs: -1, max_job_runtime_ms: 3_600_000 };
    const heldOf = (chunk: { id: string; jobIds: string[] }): HeldJob => ({
      id: chunk.id,
      tenantId: tenant!.tenantId,
      token: chunk.id,
      // The entry as BullMQ hands it over; being told the chunk is done costs nothing here.
      job: { id: chunk.id, data: { tenant_id: tenant!.tenantId, job_ids: chunk.jobIds }, moveToCompleted: async () => undefined } as unknown as Job<PipelineJobData>,
      plan,
      abort: new AbortController(),
      lockedAt: Date.now(),
    });
    // Every round's jobs submitted first, so the rounds run back to back.
    const all = await submit(stack, apiUrl, tenant!, JOBS * (ROUNDS + 1));
    const perRound = Math.ceil(JOBS / CHUNK);
    const rounds: Array<{ cpu_ms_per_job: number; jobs_per_s: number }> = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const chunks = all.slice(round * perRound, (round + 1) * perRound);
      if (round === 1) log(`rounds from ${process.hrtime.bigint() / 1000n} µs`);
      const before = cpuMs();
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < chunks.length) {
            const held = heldOf(chunks[next++]!);
            await (LOG_CONTEXT ? logContext.run({ tenantId: held.tenantId, jobId: held.id }, () => runner.run(held)) : runner.run(held));
          }
        }),
      );
      const spent = cpuMs() - before;
      const seconds = (performance.now() - started) / 1000;
      const [done] = (await stack.db('jobs').whereIn('id', chunks.flatMap((c) => c.jobIds)).andWhere('status', 'completed').count({ n: '*' })) as Array<{ n: string }>;
      if (Number(done?.n) !== JOBS) throw new Error(`only ${done?.n} of ${JOBS} jobs completed`);
      // Round 0 warms up (JIT, caches).
      if (round > 0) rounds.push({ cpu_ms_per_job: Math.round((spent / JOBS) * 10_000) / 10_000, jobs_per_s: Math.round(JOBS / seconds) });
      // Monotonic µs, the clock of --cpu-prof's samples: a profile can be cut to the rounds.
      log(`round ${round}: ${((spent / JOBS) * 1000).toFixed(1)} µs CPU per job (until ${process.hrtime.bigint() / 1000n} µs)`);
    }
    const cpu = rounds.map((r) => r.cpu_ms_per_job).sort((a, b) => a - b);
    process.stdout.write(
      `${JSON.stringify({ jobs: JOBS, chunk: CHUNK, concurrency: CONCURRENCY, log_context: LOG_CONTEXT, rounds, median_cpu_ms_per_job: cpu[Math.floor(cpu.length / 2)], load_average: loadavg().map((l) => Math.round(l * 100) / 100) }, null, 2)}\n`,
    );
  } finally {
    closeClients();
    await kernels.close();
    connection.disconnect();
    await db.destroy();
    await stack.stop();
  }
}

await main();
