/**
 * Load benchmark: `npm run bench:load [-- --quick] [-- --soak-minutes N]`.
 *
 * Starts a fresh stack (database migrated from scratch, `catalytic api`, `catalytic worker`, and
 * a bare Koa server as the ceiling and the floor), makes three enterprise tenants, then drives each
 * profile (submit-heavy, poll-heavy, list-heavy, mixed; the ceiling and the floor) at each connection count, each
 * once the worker has finished the jobs earlier scenarios submitted, soaks the API with the mixed profile while sampling its memory, prints one JSON document on stdout (progress on
 * stderr) and stops everything it started.
 *
 * `--quick` is the short variant (about 20 s of load at 50 connections and a 30 s soak).
 * `--api-processes N` starts N `catalytic api` processes, each on its own port; every API
 * scenario then runs one autocannon instance per process with the connections divided between
 * them, and reports their CPU added up. `--worker-nice N` starts the worker with WORKER_NICE=N (0–19;
 * without it the worker's own default): whether the jobs a scenario submits take the cores its requests need.
 * `--far-quotas` keeps the plans' monthly job and compute-unit quotas (at values no run reaches)
 * instead of lifting them, so submissions take the quota path that real plans take.
 * `--api-pool N` gives each API process N PostgreSQL connections (DATABASE_POOL_MAX), and
 * `--submit-writes N` N submit writes in flight per tenant (SUBMIT_WRITES_PER_TENANT).
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runScenario, type ScenarioResult, settleBacklog } from './measure.ts';
import { PROFILES, type Profile, type ProfileData, TINY_JOB, YARDSTICKS } from './profiles.ts';
import { soak } from './soak.ts';
import { threadNiceValues } from '../../shared/process-priority.ts';
import { LoadStack, type StackProcess } from './stack.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'soak-minutes': { type: 'string' },
    'soak-connections': { type: 'string', default: '50' },
    duration: { type: 'string', description: 'seconds per scenario' },
    connections: { type: 'string', description: 'comma-separated connection counts' },
    profiles: { type: 'string', description: 'comma-separated profiles (default: all)' },
    'poll-jobs': { type: 'string', description: 'jobs per tenant submitted before polling' },
    out: { type: 'string', description: 'also write the JSON here' },
    'api-processes': { type: 'string', default: '1', description: 'catalytic api processes, each on its own port' },
    'worker-nice': { type: 'string', description: 'nice value (0-19) of the worker process, every thread' },
    'far-quotas': { type: 'boolean', default: false, description: 'keep monthly job and compute-unit quotas, far from their limits' },
    'api-pool': { type: 'string', description: "each API process's PostgreSQL connections (DATABASE_POOL_MAX; default the API's own)" },
    'submit-writes': { type: 'string', description: "each API process's submit writes in flight per tenant (SUBMIT_WRITES_PER_TENANT; default the API's own)" },
  },
});

const quick = args.quick ?? false;
const settings = {
  quick,
  connections: (args.connections ?? (quick ? '50' : '50,200,1000')).split(',').map(Number),
  duration_s: Number(args.duration ?? (quick ? 4 : 20)),
  soak_minutes: Number(args['soak-minutes'] ?? (quick ? 0.5 : 10)),
  soak_connections: Number(args['soak-connections']),
  soak_sample_every_s: quick ? 2 : 10,
  profiles: (args.profiles ?? ['ceiling', 'floor', ...PROFILES].join(',')).split(',') as Profile[],
  poll_jobs_per_tenant: Number(args['poll-jobs'] ?? (quick ? 30 : 200)),
  tenants: 3,
  // Each API process on its own port, with its own autocannon instance and its share of the
  // connections (the first processes take the remainder).
  api_processes: Number(args['api-processes']),
  // The worker's CPU priority (Linux nice, every thread): null leaves the worker's own default
  // (WORKER_NICE), 0 is as the API's.
  worker_nice: args['worker-nice'] === undefined ? null : Number(args['worker-nice']),
  // Monthly job and compute-unit quotas kept (far from their limits) rather than lifted.
  far_quotas: args['far-quotas'] ?? false,
  // Each API process's PostgreSQL pool; null leaves the API's default (DATABASE_POOL_MAX).
  api_pool: args['api-pool'] === undefined ? null : Number(args['api-pool']),
  // Each API process's submit writes in flight per tenant; null leaves the API's default.
  submit_writes: args['submit-writes'] === undefined ? null : Number(args['submit-writes']),
  // Far above what two cores serve: the burst cap never answers 429 here. Per-plan limits
  // (requests per minute, monthly quotas) are lifted in the bench database.
  rate_limit_credential_per_second: 1_000_000,
  pause_between_scenarios_s: 2,
};
for (const [name, value] of Object.entries({ duration: settings.duration_s, 'soak-minutes': settings.soak_minutes })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
}
if (settings.worker_nice !== null && (!Number.isInteger(settings.worker_nice) || settings.worker_nice < 0 || settings.worker_nice > 19)) throw new Error('--worker-nice must be a whole number from 0 to 19');
if (settings.submit_writes !== null && (!Number.isInteger(settings.submit_writes) || settings.submit_writes < 1 || settings.submit_writes > 16)) {
  throw new Error('--submit-writes must be a whole number from 1 to 16');
}
if (settings.api_pool !== null && (!Number.isInteger(settings.api_pool) || settings.api_pool < 1 || settings.api_pool > 500)) {
  throw new Error('--api-pool must be a whole number from 1 to 500');
}
if (!Number.isInteger(settings.api_processes) || settings.api_processes < 1 || settings.api_processes > 16) {
  throw new Error('--api-processes must be a whole number from 1 to 16');
}

const log = (message: string) => process.stderr.write(`[bench:load] ${message}\n`);
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

async function submitPollJobs(api: StackProcess, data: ProfileData, perTenant: number): Promise<void> {
  await Promise.all(
    data.tenants.map(async (tenant, index) => {
      const ids = data.jobs[index] as string[];
      // Ten at a time per tenant.
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (ids.length < perTenant) {
            const response = await fetch(`${api.url}/api/jobs`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: tenant.authorization },
              body: TINY_JOB,
            });
            const body = (await response.json()) as { id?: string };
            if (response.status !== 202 || !body.id) throw new Error(`seeding a job answered ${response.status}`);
            ids.push(body.id);
          }
        }),
      );
    }),
  );
}

/** The API processes' settings the command line overrides. */
function apiEnv(): Record<string, string> {
  return {
    ...(settings.api_pool === null ? {} : { DATABASE_POOL_MAX: String(settings.api_pool) }),
    ...(settings.submit_writes === null ? {} : { SUBMIT_WRITES_PER_TENANT: String(settings.submit_writes) }),
  };
}

async function main(): Promise<void> {
  const stack = new LoadStack({
    serverUrl: process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432',
    redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    name: 'load',
    credentialPerSecond: settings.rate_limit_credential_per_second,
    farQuotas: settings.far_quotas,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));

  const startedAt = new Date();
  let workerNice: { min: number; max: number } | null = null;
  const loadBefore = loadavg().map((v) => round(v));
  try {
    log(`fresh database ${stack.databaseName}`);
    await stack.start();
    const tenants = await stack.tenants(settings.tenants);
    const apis: StackProcess[] = [];
    for (let i = 0; i < settings.api_processes; i++) apis.push(await stack.api(apiEnv()));
    const api = apis[0] as StackProcess;
    const worker = await stack.worker({ KERNEL_THREADS: '1', WORKER_CONCURRENCY: '4', ...(settings.worker_nice === null ? {} : { WORKER_NICE: String(settings.worker_nice) }) });
    // As the worker set itself (its main thread and the kernel threads it started): what ran, not what was asked.
    const niceValues = threadNiceValues(worker.pid);
    workerNice = niceValues.length === 0 ? null : { min: Math.min(...niceValues), max: Math.max(...niceValues) };
    const bare = await stack.bareKoa();
    log(`api ${apis.map((a) => `${a.url} (pid ${a.pid})`).join(', ')}, worker pid ${worker.pid}, bare koa ${bare.url}`);
    const data: ProfileData = { tenants, jobs: tenants.map(() => []) };
    await submitPollJobs(api, data, settings.poll_jobs_per_tenant);
    log(`${settings.poll_jobs_per_tenant} jobs per tenant to poll`);

    const scenarios: ScenarioResult[] = [];
    for (const connections of settings.connections) {
      for (const profile of settings.profiles) {
        const targets = YARDSTICKS.includes(profile) ? [bare] : apis;
        const settled = await settleBacklog(stack);
        if (settled.backlog_jobs > 0) log(`waited ${settled.waited_ms} ms for ${settled.backlog_jobs} unfinished jobs`);
        log(`${profile} at ${connections} connections for ${settings.duration_s} s`);
        const result = await runScenario({ targets, profile, connections, durationS: settings.duration_s, data, stack, settled });
        const cpu = result.target_cpu ? `, ${result.target_cpu.ms_per_request} ms CPU/request on ${result.target_cpu.cores} cores` : '';
        const others = result.other_cpu_ms_per_request;
        const rest = others
          ? `; PostgreSQL ${others.postgres} (${Object.entries(others.postgres_by_client).map(([c, ms]) => `${c} ${ms}`).join(', ')}), Redis ${others.redis}, workers ${others.workers}, autocannon ${others.load_generator} ms CPU/request`
          : '';
        log(`  ${result.requests_per_s} req/s, p50 ${result.latency_ms.p50} ms, p95 ${result.latency_ms.p95} ms, p99 ${result.latency_ms.p99} ms, non-2xx ${result.non_2xx}${cpu}${rest}`);
        for (const [route, l] of Object.entries(result.latency_by_route_ms ?? {})) {
          log(`    ${route}: ${l.requests} answered, p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms`);
        }
        if (!YARDSTICKS.includes(profile)) {
          result.left_behind = await settleBacklog(stack);
          if (result.left_behind.backlog_jobs > 0) log(`  left ${result.left_behind.backlog_jobs} unfinished jobs, done ${result.left_behind.waited_ms} ms later`);
        }
        scenarios.push(result);
        await new Promise((r) => setTimeout(r, settings.pause_between_scenarios_s * 1000));
      }
    }

    log(`soak: mixed at ${settings.soak_connections} connections for ${settings.soak_minutes} min`);
    const soaked = await soak({
      apis,
      data,
      minutes: settings.soak_minutes,
      connections: settings.soak_connections,
      sampleEveryMs: settings.soak_sample_every_s * 1000,
    });
    log(`  heap slope ${soaked.heap_slope_mb_per_min} MB/min, rss slope ${soaked.rss_slope_mb_per_min} MB/min`);

    const apiRuns = [...scenarios.filter((s) => s.target === 'api'), soaked.load];
    const poll200 = scenarios.find((s) => s.profile === 'poll-heavy' && s.connections === 200);
    const floor200 = scenarios.find((s) => s.profile === 'floor' && s.connections === 200);
    const serverErrors = apiRuns.reduce((sum, s) => sum + s.server_errors_5xx + (s.warmup_server_errors_5xx ?? 0), 0);
    const report = {
      benchmark: 'load',
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model ?? 'unknown',
        memory_gb: round(totalmem() / 1024 ** 3, 1),
        node: process.version,
        // Shared machine: other work competes for the same cores (autocannon included).
        load_average_before: loadBefore,
        load_average_after: loadavg().map((v) => round(v)),
      },
      settings: {
        ...settings,
        worker: { processes: 1, KERNEL_THREADS: 1, WORKER_CONCURRENCY: 4, nice: workerNice },
        note: 'autocannon runs in the benchmark process on the same cores as the API, worker, PostgreSQL and Redis',
      },
      targets: {
        get_job_p95_under_50ms_at_200: poll200 ? { p95_ms: poll200.latency_ms.p95, met: poll200.latency_ms.p95 < 50 } : null,
        get_job_p99_under_100ms_at_200: poll200 ? { p99_ms: poll200.latency_ms.p99, met: poll200.latency_ms.p99 < 100 } : null,
        // Whether the floor route (one Redis INCR + one SELECT, no API) meets the same targets here.
        floor_at_200: floor200
          ? { p95_ms: floor200.latency_ms.p95, p99_ms: floor200.latency_ms.p99, met: floor200.latency_ms.p95 < 50 && floor200.latency_ms.p99 < 100 }
          : null,
        zero_5xx: { server_errors: serverErrors, met: serverErrors === 0 },
        no_memory_growth: {
          heap_slope_mb_per_min: soaked.heap_slope_mb_per_min,
          rss_slope_mb_per_min: soaked.rss_slope_mb_per_min,
          limits: soaked.limits,
          met: soaked.no_growth,
        },
      },
      scenarios,
      soak: soaked,
    };
    const text = JSON.stringify(report, null, 2);
    if (args.out) writeFileSync(args.out, `${text}\n`);
    process.stdout.write(`${text}\n`);
  } finally {
    await stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:load] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
