/**
 * `npm run bench:batches [-- --jobs N] [-- --batch N] [-- --clients N] [-- --chunk N] [-- --write-batch N] [-- --peer-jobs N]`:
 * the batch path end to end — tiny shortest_path jobs submitted over HTTP in batches
 * (`POST /api/batches`, 1,000 jobs each by default, from `--clients` concurrent clients over 10
 * enterprise tenants; a 503 with Retry-After, the API overloaded, is waited out and the batch sent
 * again, counted as `retried_503`), timed until every job is completed with its result stored — with 2 worker
 * processes, and the CPU each part of the stack spent per job; then, in the same run and against
 * the same PostgreSQL, the peers a user would pick instead (graphile-worker `addJobs`, pg-boss
 * `insert`, `--peer-jobs` no-op jobs each, 0 to skip them: peer-queues.ts), and Catalytic's
 * jobs/s over each. JSON on stdout, progress on stderr.
 */
import { loadavg } from 'node:os';
import { totalCpuMs } from '../support/process-stats.ts';
import { postgresCpuByClient, sharedCpuSpent } from '../support/stack.ts';
import { closeClients, postJson } from './http-post.ts';
import { measurePeer, type PeerResult } from './peer-queues.ts';
import { PipelineStack } from './stack.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const JOBS = option('jobs', 20_000);
const BATCH = option('batch', 1000);
const CLIENTS = option('clients', 4);
/** BATCH_CHUNK_MAX_JOBS of the API and WORKER_WRITE_BATCH_MAX of the workers. */
const CHUNK = option('chunk', 100);
const WRITE_BATCH = option('write-batch', 64);
const PEER_JOBS = option('peer-jobs', 20_000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';
const log = (message: string): void => void process.stderr.write(`[bench:batches] ${message}\n`);

const batchBody = (size: number, seed: number) =>
  JSON.stringify({
    lattice: { shape: [8, 8] },
    defaults: { type: 'shortest_path', params: { start: [0, 0] } },
    jobs: Array.from({ length: size }, (_, i) => ({ params: { end: [7, (i + seed) % 8] } })),
  });

async function run(stack: PipelineStack, apiUrl: string, tenants: Array<{ authorization: string }>, jobs: number) {
  const since = new Date();
  const sample = async () => ({ api: totalCpuMs(stack.pids('api')), workers: totalCpuMs(stack.pids('worker')), ...(await stack.sharedCpu()) });
  const walLsn = async () => ((await stack.db.raw('select pg_current_wal_lsn()::text as lsn')) as { rows: Array<{ lsn: string }> }).rows[0]?.lsn ?? '0/0';
  const walBefore = await walLsn();
  const before = await sample();
  const started = performance.now();
  let next = 0;
  let retried = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const { authorization } = tenants[client % tenants.length] as { authorization: string };
      while (next < jobs) {
        const size = Math.min(BATCH, jobs - next);
        next += size;
        const body = batchBody(size, next);
        // As a client should: an overloaded API answers 503 with Retry-After (nothing written); wait and resend.
        for (let attempt = 1; ; attempt++) {
          const answer = await postJson(new URL('/api/batches', apiUrl), { authorization }, body);
          if (answer.status === 202) break;
          if (answer.status !== 503 || attempt >= 10) throw new Error(`batch answered ${answer.status}: ${answer.body.slice(0, 300)}`);
          retried++;
          await new Promise((r) => setTimeout(r, (answer.retryAfterS ?? 1) * 1000));
        }
      }
    }),
  );
  const submitted = performance.now();
  // Polled on the batches' counters (a few rows), not on `jobs`: a count over the jobs of the run
  // every 20 ms read the whole table each time, PostgreSQL CPU the stack was charged with.
  for (;;) {
    const [row] = (await stack.db('batches').where('created_at', '>=', since).select(stack.db.raw('coalesce(sum(unfinished), 0) as n, count(*) as batches'))) as Array<{
      n: string;
      batches: string;
    }>;
    if (Number(row?.batches) > 0 && Number(row?.n) === 0) break;
    if (performance.now() - started > 5 * 60_000) throw new Error(`${row?.n} of ${jobs} jobs unfinished after 5 minutes`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const done = performance.now();
  const after = await sample();
  const walAfter = await walLsn();
  const [wal] = (await stack.db.raw('select pg_wal_lsn_diff(?::pg_lsn, ?::pg_lsn) as n', [walAfter, walBefore])).rows as Array<{ n: string }>;
  const [completed] = (await stack.db('jobs').where('created_at', '>=', since).andWhere('status', 'completed').count({ n: '*' })) as Array<{ n: string }>;
  if (Number(completed?.n) !== jobs) throw new Error(`${completed?.n} of ${jobs} jobs completed`);
  const [stored] = (await stack.db('job_results as r').join('jobs as j', 'j.id', 'r.job_id').where('j.created_at', '>=', since).count({ n: '*' })) as Array<{ n: string }>;
  const shared = sharedCpuSpent(before, after);
  const per = (ms: number) => Math.round((ms / jobs) * 1000) / 1000;
  const cpu = { api: per(after.api - before.api), workers: per(after.workers - before.workers), postgres: per(shared.postgres), redis: per(shared.redis), clients: per(shared.benchmark) };
  return {
    jobs,
    results_stored: Number(stored?.n),
    seconds: Math.round(done - started) / 1000,
    jobs_per_s: Math.round((jobs / (done - started)) * 1000),
    submit_seconds: Math.round(submitted - started) / 1000,
    /** Batches resent after a 503 (the API overloaded; Retry-After waited out). */
    retried_503: retried,
    /** WAL the server wrote meanwhile, per job (the whole server's: anything else on it counts too). */
    wal_bytes_per_job: Math.round(Number(wal?.n) / jobs),
    cpu_ms_per_job: { ...cpu, stack: Math.round((cpu.api + cpu.workers + cpu.postgres + cpu.redis) * 1000) / 1000 },
    /** PostgreSQL's part by the client whose backends spent it: the API's submits, the workers' chunk takes and final writes. */
    postgres_cpu_ms_per_job_by_client: Object.fromEntries(Object.entries(postgresCpuByClient(before, after)).map(([client, ms]) => [client, per(ms)])),
  };
}

async function main(): Promise<void> {
  const stack = new PipelineStack({ serverUrl: SERVER_URL, redisUrl: REDIS_URL, name: 'batches', credentialPerSecond: 1_000_000 });
  await stack.start();
  try {
    const tenants = await stack.tenants(10);
    const apiUrl = (await stack.api({ DATABASE_POOL_MAX: '20', BATCH_CHUNK_MAX_JOBS: String(CHUNK) })).url;
    const workerEnv = { WORKER_CONCURRENCY: '8', KERNEL_THREADS: '2', DATABASE_POOL_MAX: '12', WORKER_WRITE_BATCH_MAX: String(WRITE_BATCH) };
    await stack.worker(workerEnv);
    await stack.worker(workerEnv);
    log('warming up …');
    await run(stack, apiUrl, tenants, Math.min(2000, JOBS));
    log(`${JOBS} jobs in batches of ${BATCH} from ${CLIENTS} clients …`);
    const measured = await run(stack, apiUrl, tenants, JOBS);
    log(`${measured.jobs_per_s} jobs/s end to end`);
    const loadDuringCatalytic = loadavg().map((l) => Math.round(l * 100) / 100);
    // The peers after Catalytic's processes are stopped, so each has the machine Catalytic had.
    await stack.stopProcesses(['api', 'worker']);
    const peers: PeerResult[] = [];
    for (const peer of PEER_JOBS > 0 ? (['graphile-worker', 'pg-boss'] as const) : []) {
      log(`${peer}: ${PEER_JOBS} no-op jobs …`);
      const result = await measurePeer(peer, SERVER_URL, PEER_JOBS);
      log('skipped' in result ? `${peer} skipped: ${result.skipped}` : `${peer}: ${result.jobs_per_s} jobs/s`);
      peers.push(result);
    }
    const ratios = Object.fromEntries(peers.flatMap((p) => ('jobs_per_s' in p ? [[`catalytic_over_${p.peer}`, Math.round((measured.jobs_per_s / p.jobs_per_s) * 100) / 100]] : [])));
    const report = {
      load_average: { catalytic: loadDuringCatalytic, end: loadavg().map((l) => Math.round(l * 100) / 100) },
      batch: BATCH,
      chunk: CHUNK,
      write_batch: WRITE_BATCH,
      clients: CLIENTS,
      workers: 2,
      batch_path: measured,
      peers,
      ratios,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } catch (err) {
    log(`failed; the stack's logs are kept in ${await stack.saveOutputs()}`);
    throw err;
  } finally {
    closeClients();
    await stack.stop();
  }
}

await main();
