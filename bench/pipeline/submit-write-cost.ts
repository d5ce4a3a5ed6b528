/**
 * `node --import tsx bench/pipeline/submit-write-cost.ts [-- --rounds N --writes N --batch N]`:
 * what a job submission's write costs PostgreSQL and the API process, written two ways on one
 * pooled connection of a fresh database (enterprise tenant, no monthly quotas):
 * - `transaction`: `withTenant` (BEGIN, role and tenant, COMMIT) around `insertJobs` and the
 *   compute-unit `recordUsage` — five round trips;
 * - `one_round_trip`: `writeJobsAsTenant` (shared/jobs/insert-statement.ts) — the role and tenant
 *   switch and a prepared statement's EXECUTE in one query string.
 * Rounds alternate between the two; each writes `--writes` times `--batch` jobs in a row. The
 * report per job: wall time, the backend's CPU (read from /proc: PostgreSQL must run on this
 * machine) and this process's CPU. JSON on stdout.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { APP_ROLE, createDb, withTenant } from '../../shared/db.ts';
import { writeJobsAsTenant } from '../../shared/jobs/insert-statement.ts';
import { insertJobs, type NewJob } from '../../shared/jobs/repository.ts';
import { recordUsage, USAGE_METRICS } from '../../shared/usage.ts';
import { cpuMs, ownCpuMs } from '../support/process-stats.ts';
import { BenchStack } from '../support/stack.ts';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, writes: { type: 'string', default: '400' }, batch: { type: 'string', default: '1' } },
});
const ROUNDS = Number(args.rounds);
const WRITES = Number(args.writes);
const BATCH = Number(args.batch);
const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';
const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

const stack = new BenchStack({ serverUrl: SERVER_URL, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', name: 'submitwrite', credentialPerSecond: 1 });
await stack.start();
// As the API's pool: sessions run as the application role.
const db = createDb({ url: stack.databaseUrl, poolMax: 1, sessionRole: APP_ROLE });
try {
  const [tenant] = await stack.tenants(1);
  const tenantId = (tenant as { tenantId: string }).tenantId;
  const backend = Number(((await db.raw('select pg_backend_pid() as pid')) as { rows: Array<{ pid: number }> }).rows[0]?.pid);
  const jobs = (): NewJob[] =>
    Array.from({ length: BATCH }, (_, i) => ({
      id: randomUUID(), tenantId, latticeId: null, latticeVersionId: null, type: 'shortest_path',
      lattice: { shape: [8, 8], boundary: 'open', obstacles: { density: 0.1, seed: 1 } }, params: { start: [0, 0], end: [7, i % 8] },
      cells: 64, memoryBytes: 4096, computeUnits: 64, maxAttempts: 3, idempotencyKey: null, requestHash: null, labels: null, artefacts: null,
    }));
  const ways = {
    transaction: async () => {
      const batch = jobs();
      await withTenant(db, tenantId, async (trx) => {
        await insertJobs(trx, batch);
        await recordUsage(trx, tenantId, USAGE_METRICS.computeUnits, batch.reduce((sum, j) => sum + j.computeUnits, 0));
      });
    },
    one_round_trip: async () => {
      await writeJobsAsTenant(db, tenantId, jobs());
    },
  };
  type Way = keyof typeof ways;
  const runs: Array<{ way: Way; wall_ms_per_job: number; postgres_cpu_ms_per_job: number; node_cpu_ms_per_job: number }> = [];
  // One unmeasured round of each first: connection set-up, the PREPARE, PostgreSQL's caches.
  for (const way of Object.keys(ways) as Way[]) for (let i = 0; i < 20; i++) await ways[way]();
  for (let r = 0; r < ROUNDS; r++) {
    for (const way of (r % 2 === 0 ? ['transaction', 'one_round_trip'] : ['one_round_trip', 'transaction']) as Way[]) {
      const pg0 = cpuMs(backend) ?? NaN;
      const own0 = ownCpuMs();
      const t0 = performance.now();
      for (let i = 0; i < WRITES; i++) await ways[way]();
      const n = WRITES * BATCH;
      runs.push({
        way,
        wall_ms_per_job: round((performance.now() - t0) / n),
        postgres_cpu_ms_per_job: round(((cpuMs(backend) ?? NaN) - pg0) / n),
        node_cpu_ms_per_job: round((ownCpuMs() - own0) / n),
      });
    }
  }
  process.stdout.write(`${JSON.stringify({ load_average: loadavg().map((l) => round(l, 2)), rounds: ROUNDS, writes_per_round: WRITES, jobs_per_write: BATCH, runs }, null, 2)}\n`);
} finally {
  await db.destroy();
  await stack.stop();
}
