/**
 * `npm run bench:pipeline [-- --jobs N] [-- --clients N] [-- --quick] [-- --workers 1,2] [-- --no-raw]`: end-to-end throughput of
 * the job pipeline (submit over HTTP → completed) for tiny shortest_path jobs with 1 and 2 worker
 * processes, next to raw BullMQ no-op throughput on the same Redis, measured in the same run
 * three ways (consuming a pre-filled queue with a Worker, with manual-fetch loops, and adding from
 * as many producers as the pipeline has clients while a Worker consumes);
 * percentiles of submit latency and queue wait with `--clients` concurrent clients, both at
 * saturation (each client sends its next job as soon as the last is answered) and paced below it
 * (the clients together at half the throughput two workers sustained). The report is JSON on
 * stdout; progress goes to stderr.
 *
 * Jobs per second depend on what else the machine runs; the report also gives the CPU time each
 * part of the stack (API, workers, PostgreSQL backends, Redis) spent per job, read from /proc and
 * Redis's INFO, and the throughput that CPU cost allows on this machine's cores.
 *
 * The stack is real: its own PostgreSQL database, `catalytic api` and `catalytic worker` child
 * processes, several enterprise tenants (clients spread over them), plan request limits lifted
 * (they would cap the load, not measure the pipeline).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { totalCpuMs } from '../support/process-stats.ts';
import { type SharedCpu, sharedCpuSpent } from '../support/stack.ts';
import { closeClients, postJson } from './http-post.ts';
import { rawAddAndProcess, rawManualLoops, rawWorker } from './raw-bullmq.ts';
import { PipelineStack } from './stack.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const quick = args.includes('--quick');
const JOBS = option('jobs', quick ? 1500 : 5000);
const CLIENTS = option('clients', 100);
const TENANTS = option('tenants', 10);
const WORKER_CONCURRENCY = option('worker-concurrency', 32);
const RAW_JOBS = option('raw-jobs', quick ? 10_000 : 20_000);
const PACED_SECONDS = option('paced-seconds', quick ? 5 : 15);
// For quicker A/B runs: the worker counts to measure, and whether to measure raw BullMQ at all.
const WORKER_COUNTS = (args.includes('--workers') ? String(args[args.indexOf('--workers') + 1]) : '1,2').split(',').map(Number);
const NO_RAW = args.includes('--no-raw');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';

function log(message: string): void {
  process.stderr.write(`[bench:pipeline] ${message}\n`);
}

function percentiles(values: number[]): { p50: number; p95: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(sorted[sorted.length - 1] ?? NaN) };
}

const tinyJob = (i: number) => ({ type: 'shortest_path', lattice: { shape: [8, 8] }, params: { start: [0, 0], end: [7, i % 8] } });

interface Phase {
  workers: number;
  jobs: number;
  seconds: number;
  jobs_per_s: number;
  submit_seconds: number;
  submit_ms: ReturnType<typeof percentiles>;
  queue_wait_ms: ReturnType<typeof percentiles>;
  cpu_ms_per_job: CpuPerJob;
}

interface CpuPerJob {
  api: number;
  workers: number;
  postgres: number;
  redis: number;
  /** The benchmark's own HTTP clients (not part of the stack). */
  clients: number;
  /** API + workers + PostgreSQL + Redis. */
  stack: number;
}

interface CpuSample extends SharedCpu {
  api: number;
  workers: number;
}

async function sampleCpu(stack: PipelineStack): Promise<CpuSample> {
  return { api: totalCpuMs(stack.pids('api')), workers: totalCpuMs(stack.pids('worker')), ...(await stack.sharedCpu()) };
}

/** CPU per job between two samples. */
function cpuPerJob(before: CpuSample, after: CpuSample, jobs: number): CpuPerJob {
  const shared = sharedCpuSpent(before, after);
  const per = (ms: number) => Math.round((ms / jobs) * 100) / 100;
  const parts = {
    api: per(after.api - before.api),
    workers: per(after.workers - before.workers),
    postgres: per(shared.postgres),
    redis: per(shared.redis),
    clients: per(shared.benchmark),
  };
  return { ...parts, stack: Math.round((parts.api + parts.workers + parts.postgres + parts.redis) * 100) / 100 };
}

async function post(apiUrl: string, authorization: string, i: number): Promise<number> {
  const t0 = performance.now();
  const answer = await postJson(new URL('/api/jobs', apiUrl), { authorization }, JSON.stringify(tinyJob(i)));
  if (answer.status !== 202) throw new Error(`submit answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  return performance.now() - t0;
}

/**
 * The floor (floor-process.ts) at saturation: `jobs` tiny jobs posted by `CLIENTS` clients as
 * fast as they are answered, timed until every row is completed.
 */
async function floorThroughput(stack: PipelineStack, url: string, jobs: number): Promise<{ jobs: number; seconds: number; jobs_per_s: number; submit_ms: ReturnType<typeof percentiles> }> {
  const completed = async () => Number(((await stack.db('floor_jobs').where({ status: 'completed' }).count({ n: '*' })) as Array<{ n: string }>)[0]?.n);
  const before = await completed();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < jobs) {
        const t0 = performance.now();
        const answer = await postJson(new URL('/jobs', url), {}, JSON.stringify(tinyJob(next++)));
        if (answer.status !== 202) throw new Error(`floor answered ${answer.status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  while ((await completed()) < before + jobs) {
    if (performance.now() - started > 5 * 60_000) throw new Error('the floor did not complete its jobs in 5 minutes');
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = performance.now() - started;
  return { jobs, seconds: Math.round(ms) / 1000, jobs_per_s: Math.round((jobs / ms) * 1000), submit_ms: percentiles(latencies) };
}

/** Waits until every job created since `since` completed; returns when that happened. */
async function allCompleted(stack: PipelineStack, since: Date, jobs: number, started: number): Promise<number> {
  for (;;) {
    const [row] = (await stack.db('jobs')
      .where('created_at', '>=', since)
      .select(stack.db.raw(`count(*) filter (where status = 'completed') as completed`))) as Array<{ completed: string }>;
    if (Number(row?.completed) >= jobs) return performance.now();
    if (performance.now() - started > 10 * 60_000) throw new Error(`only ${row?.completed} of ${jobs} jobs completed after 10 minutes`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function queueWaits(stack: PipelineStack, since: Date): Promise<number[]> {
  return (await stack.db('jobs').where('created_at', '>=', since).pluck('queue_wait_ms')) as number[];
}

/**
 * Saturation: `jobs` jobs submitted by `CLIENTS` clients as fast as the API answers (each sends
 * its next request when the last is answered), timed until every one has completed.
 */
async function throughput(stack: PipelineStack, apiUrl: string, tenants: Array<{ authorization: string }>, jobs: number, workers: number): Promise<Phase> {
  const since = new Date();
  const latencies: number[] = [];
  let next = 0;
  const cpuBefore = await sampleCpu(stack);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const { authorization } = tenants[client % tenants.length] as { authorization: string };
      while (next < jobs) latencies.push(await post(apiUrl, authorization, next++));
    }),
  );
  const submitted = performance.now();
  const done = await allCompleted(stack, since, jobs, started);
  const cpuAfter = await sampleCpu(stack);
  return {
    workers,
    jobs,
    seconds: Math.round(done - started) / 1000,
    jobs_per_s: Math.round((jobs / (done - started)) * 1000),
    submit_seconds: Math.round(submitted - started) / 1000,
    submit_ms: percentiles(latencies),
    queue_wait_ms: percentiles(await queueWaits(stack, since)),
    cpu_ms_per_job: cpuPerJob(cpuBefore, cpuAfter, jobs),
  };
}

/**
 * Latency below saturation: `CLIENTS` clients together submitting `rate` jobs per second for
 * `seconds` (each client paced at `CLIENTS / rate` s between requests, never two in flight).
 */
async function paced(stack: PipelineStack, apiUrl: string, tenants: Array<{ authorization: string }>, rate: number, seconds: number) {
  const since = new Date();
  const latencies: number[] = [];
  const interval = (CLIENTS / rate) * 1000;
  const started = performance.now();
  const end = started + seconds * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const { authorization } = tenants[client % tenants.length] as { authorization: string };
      let due = started + (client * interval) / CLIENTS;
      for (;;) {
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (performance.now() >= end) return;
        latencies.push(await post(apiUrl, authorization, i++));
        due += interval;
      }
    }),
  );
  await allCompleted(stack, since, latencies.length, started);
  const elapsed = (end - started) / 1000;
  return {
    clients: CLIENTS,
    target_jobs_per_s: rate,
    achieved_jobs_per_s: Math.round(latencies.length / elapsed),
    jobs: latencies.length,
    submit_ms: percentiles(latencies),
    queue_wait_ms: percentiles(await queueWaits(stack, since)),
  };
}

async function main(): Promise<void> {
  const load = loadavg()[0];
  log(`raw BullMQ: ${RAW_JOBS} no-op jobs, a Worker of concurrency 50 …`);
  const stack = new PipelineStack({ serverUrl: SERVER_URL, redisUrl: REDIS_URL, name: 'pipeline', credentialPerSecond: 1_000_000 });
  await stack.start();
  try {
    const skipped = { jobs: 0, seconds: 0, jobs_per_s: NaN };
    const rawConcurrency = NO_RAW ? skipped : await rawWorker(REDIS_URL, stack.prefix, RAW_JOBS, 50);
    log(`raw BullMQ: ${rawConcurrency.jobs_per_s} jobs/s; now 50 manual-fetch loops …`);
    const rawManual = NO_RAW ? skipped : await rawManualLoops(REDIS_URL, stack.prefix, RAW_JOBS, 50);
    log(`raw BullMQ manual: ${rawManual.jobs_per_s} jobs/s; now ${CLIENTS} producers adding while a Worker of concurrency 50 runs …`);
    const rawEndToEnd = NO_RAW ? skipped : await rawAddAndProcess(REDIS_URL, stack.prefix, RAW_JOBS, CLIENTS, 50);
    log(`raw BullMQ add and process: ${rawEndToEnd.jobs_per_s} jobs/s; now the floor (HTTP + one insert + BullMQ + one update) …`);
    const floorServer = await stack.floor();
    await floorThroughput(stack, floorServer.url, Math.min(500, JOBS));
    const floorCpuBefore = await stack.sharedCpu();
    const floorProcessesBefore = totalCpuMs(stack.pids('floor-server')) + totalCpuMs(stack.pids('floor-worker'));
    const floor = await floorThroughput(stack, floorServer.url, JOBS);
    const floorShared = sharedCpuSpent(floorCpuBefore, await stack.sharedCpu());
    const floorProcesses = totalCpuMs(stack.pids('floor-server')) + totalCpuMs(stack.pids('floor-worker')) - floorProcessesBefore;
    // The floor's CPU per job (its two processes, PostgreSQL, Redis): comparable when the machine is busy.
    const floorCpu = { processes: Math.round((floorProcesses / JOBS) * 100) / 100, postgres: Math.round((floorShared.postgres / JOBS) * 100) / 100, redis: Math.round((floorShared.redis / JOBS) * 100) / 100 };
    await stack.stopProcesses(['floor-server', 'floor-worker']);
    log(`floor: ${floor.jobs_per_s} jobs/s, submit p99 ${floor.submit_ms.p99} ms`);

    const tenants = await stack.tenants(TENANTS);
    const apiUrl = (await stack.api({ DATABASE_POOL_MAX: '20' })).url;
    const workerEnv = { WORKER_CONCURRENCY: String(WORKER_CONCURRENCY), KERNEL_THREADS: '2', DATABASE_POOL_MAX: '12' };
    const phases: Phase[] = [];
    let running = 0;
    for (const workers of WORKER_COUNTS) {
      for (; running < workers; running++) await stack.worker(workerEnv);
      log(`${workers} worker process(es): warming up …`);
      await throughput(stack, apiUrl, tenants, Math.min(500, JOBS), workers);
      log(`${workers} worker process(es): ${JOBS} jobs from ${CLIENTS} clients, as fast as they are answered …`);
      const measured = await throughput(stack, apiUrl, tenants, JOBS, workers);
      log(`${workers} worker process(es): ${measured.jobs_per_s} jobs/s end to end, submit p99 ${measured.submit_ms.p99} ms`);
      phases.push(measured);
    }
    // Below saturation (half of what 2 workers sustained), latency is service time, not queueing.
    const rate = Math.max(10, Math.round(0.5 * (phases[phases.length - 1] as Phase).jobs_per_s));
    log(`${CLIENTS} clients pacing ${rate} jobs/s for ${PACED_SECONDS} s …`);
    const latency = await paced(stack, apiUrl, tenants, rate, PACED_SECONDS);
    log(`paced: submit p99 ${latency.submit_ms.p99} ms, queue wait p99 ${latency.queue_wait_ms.p99} ms`);
    const report = {
      machine: { cpus: availableParallelism(), model: cpus()[0]?.model, load_avg_1m_at_start: load, node: process.version },
      settings: { jobs: JOBS, clients: CLIENTS, tenants: TENANTS, worker_concurrency: WORKER_CONCURRENCY, kernel_threads: 2, job: tinyJob(0) },
      raw_bullmq: {
        // Consuming a queue filled beforehand (adds not timed).
        worker_concurrency_50: rawConcurrency,
        manual_fetch_50_loops: rawManual,
        // Adding one at a time from as many producers as the pipeline has clients, while consuming.
        add_and_process: { producers: CLIENTS, ...rawEndToEnd },
      },
      // HTTP POST → one INSERT + BullMQ add → Worker → one UPDATE, nothing else (floor-process.ts).
      floor: { clients: CLIENTS, ...floor, cpu_ms_per_job: floorCpu, of_raw_add_and_process: Math.round((floor.jobs_per_s / rawEndToEnd.jobs_per_s) * 1000) / 1000 },
      pipeline: Object.fromEntries(
        phases.map((p) => [
          `${p.workers}_worker${p.workers > 1 ? 's' : ''}`,
          {
            ...p,
            of_raw_worker_concurrency_50: Math.round((p.jobs_per_s / rawConcurrency.jobs_per_s) * 1000) / 1000,
            of_raw_manual_fetch: Math.round((p.jobs_per_s / rawManual.jobs_per_s) * 1000) / 1000,
            of_raw_add_and_process: Math.round((p.jobs_per_s / rawEndToEnd.jobs_per_s) * 1000) / 1000,
            of_floor: Math.round((p.jobs_per_s / floor.jobs_per_s) * 1000) / 1000,
            // What the stack's CPU per job allows on this machine's cores with nothing else running.
            cpu_bound_jobs_per_s: Math.round((availableParallelism() * 1000) / p.cpu_ms_per_job.stack),
          },
        ]),
      ),
      paced_2_workers: latency,
      targets: {
        throughput_at_least_of_raw: 0.4,
        submit_p99_below_ms: 50,
        met: {
          // Against the highest of the raw figures, and against BullMQ doing what the pipeline does.
          throughput: phases.some((p) => p.jobs_per_s >= 0.4 * Math.max(rawConcurrency.jobs_per_s, rawManual.jobs_per_s, rawEndToEnd.jobs_per_s)),
          throughput_vs_add_and_process: phases.some((p) => p.jobs_per_s >= 0.4 * rawEndToEnd.jobs_per_s),
          // Whether even the floor reaches 40% of raw BullMQ (add and process) on this machine.
          floor_throughput_vs_add_and_process: floor.jobs_per_s >= 0.4 * rawEndToEnd.jobs_per_s,
          submit_p99_saturated: phases.every((p) => p.submit_ms.p99 < 50),
          submit_p99_paced: latency.submit_ms.p99 < 50,
        },
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    closeClients();
    await stack.stop();
  }
}

await main();
