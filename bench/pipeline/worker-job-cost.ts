/**
 * `node --import tsx bench/pipeline/worker-job-cost.ts [-- --runs N] [-- --rounds N]`: the worker's
 * own CPU for two parts of a tiny batch job, apart from PostgreSQL and the rest of the stack.
 * - `kernel_run`: a shortest path on an 8×8 lattice through the kernel pool as the job runner
 *   calls it (the spec and parameters JSON-parsed per run as rows are, an abort signal, a progress
 *   callback; inline, KERNEL_INLINE_MAX_CELLS 4096), CPU ms per run. To compare builds, run this
 *   loop on a checkout of main too (which has no publishJobUpdates for the part below).
 * - `publish`: a group commit's 64 final states told to Redis, as one script call per job
 *   (publishJobUpdate each, all at once) and as one call for the group (publishJobUpdates),
 *   alternately; CPU ms per job of this process (Redis's own CPU not included).
 * JSON on stdout.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { publishJobUpdate, publishJobUpdates } from '../../shared/queues/job-updates.ts';
import { createRedis, deleteKeysWithPrefix } from '../../shared/redis.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const RUNS = option('runs', 20_000);
const ROUNDS = option('rounds', 4);
const GROUP = 64;
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const round3 = (n: number): number => Math.round(n * 1000) / 1000;
const round4 = (n: number): number => Math.round(n * 10_000) / 10_000;

const pool = new KernelPool({ threads: 1, inlineMaxCells: 4096 });
await pool.start();
const kernelRun: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const before = cpuMs();
    for (let i = 0; i < RUNS; i++) {
      const row = JSON.parse(JSON.stringify({ lattice: { shape: [8, 8] }, params: { start: [0, 0], end: [7, i % 8] } })) as { lattice: unknown; params: unknown };
      const abort = new AbortController();
      await pool.run('shortest_path', row.lattice, row.params, { signal: abort.signal, onProgress: () => undefined });
    }
    kernelRun.push(round4((cpuMs() - before) / RUNS));
  }
} finally {
  await pool.close();
}

const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `bench-publish-${randomUUID().slice(0, 8)}`;
const publish = { per_job: [] as number[], per_group: [] as number[] };
try {
  const groups = Math.max(1, Math.round(RUNS / GROUP / 4));
  for (let round = 0; round < ROUNDS * 2; round++) {
    const grouped = round % 2 === 1;
    const before = cpuMs();
    for (let g = 0; g < groups; g++) {
      const updates = Array.from({ length: GROUP }, (_, i) => ({ id: randomUUID(), status: 'completed', progress: 1, version: 3 + i }));
      if (grouped) await publishJobUpdates(redis, prefix, updates);
      else await Promise.all(updates.map((update) => publishJobUpdate(redis, prefix, update)));
    }
    (grouped ? publish.per_group : publish.per_job).push(round4((cpuMs() - before) / (groups * GROUP)));
  }
} finally {
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
}

const median = (values: number[]): number => round4([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0);
process.stdout.write(
  `${JSON.stringify(
    {
      load_average: loadavg().map(round3),
      kernel_run_cpu_ms: { runs: RUNS, rounds: kernelRun, median: median(kernelRun) },
      publish_cpu_ms_per_job: { group: GROUP, per_job_calls: publish.per_job, one_call_per_group: publish.per_group, medians: [median(publish.per_job), median(publish.per_group)] },
    },
    null,
    2,
  )}\n`,
);
