/**
 * `node --import tsx bench/pipeline/submit-lane-writes.ts [-- --rounds N --writes N --batch N --writers N]`:
 * what two (or `--writers`) submit writes of one tenant in flight at once get from counting in
 * different usage lanes (shared/usage.ts › USAGE_LANES). On a fresh database (enterprise tenant, no
 * monthly quotas), `--writers` loops each write `--writes` times `--batch` jobs with
 * `writeJobsAsTenant` on a pool of as many connections, three ways, alternating by round:
 * - `one_writer`: a single loop (what one write in flight per tenant does);
 * - `one_lane`: every loop counts in lane 0, so the writes meet on the tenant's counter rows
 *   and each waits for the other's commit;
 * - `lanes`: loop i counts in lane i.
 * The report per way: jobs per second, each write's p50 and p99 wall time, the load average.
 * JSON on stdout.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { APP_ROLE, createDb } from '../../shared/db.ts';
import { writeJobsAsTenant } from '../../shared/jobs/insert-statement.ts';
import type { NewJob } from '../../shared/jobs/repository.ts';
import { BenchStack } from '../support/stack.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    writes: { type: 'string', default: '300' },
    batch: { type: 'string', default: '3' },
    writers: { type: 'string', default: '2' },
  },
});
const ROUNDS = Number(args.rounds);
const WRITES = Number(args.writes);
const BATCH = Number(args.batch);
const WRITERS = Number(args.writers);
const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const WAYS = ['one_writer', 'one_lane', 'lanes'] as const;
type Way = (typeof WAYS)[number];

const stack = new BenchStack({ serverUrl: SERVER_URL, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', name: 'lanewrites', credentialPerSecond: 1 });
await stack.start();
// As the API's pool: sessions run as the application role.
const db = createDb({ url: stack.databaseUrl, poolMax: WRITERS, sessionRole: APP_ROLE });
try {
  const [tenant] = await stack.tenants(1);
  const tenantId = (tenant as { tenantId: string }).tenantId;
  const jobs = (): NewJob[] =>
    Array.from({ length: BATCH }, () => ({
      id: randomUUID(), tenantId, latticeId: null, latticeVersionId: null, type: 'shortest_path', lattice: { shape: [8, 8], boundary: 'open' },
      params: { start: [0, 0], end: [7, 7] }, cells: 64, memoryBytes: 4096, computeUnits: 64, maxAttempts: 3, idempotencyKey: null, requestHash: null,
    }));
  const loop = async (lane: number, times: number[]): Promise<void> => {
    for (let i = 0; i < WRITES; i++) {
      const start = performance.now();
      await writeJobsAsTenant(db, tenantId, jobs(), { lane });
      times.push(performance.now() - start);
    }
  };
  // Warm-up: the statement prepared on every connection.
  await Promise.all(Array.from({ length: WRITERS }, (_, i) => writeJobsAsTenant(db, tenantId, jobs(), { lane: i })));
  const results: Record<Way, Array<{ jobs_per_s: number; write_p50_ms: number; write_p99_ms: number; load: number }>> = { one_writer: [], one_lane: [], lanes: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const way of WAYS) {
      const times: number[] = [];
      const load = loadavg()[0] ?? 0;
      const start = performance.now();
      const loops = way === 'one_writer' ? 1 : WRITERS;
      await Promise.all(Array.from({ length: loops }, (_, i) => loop(way === 'lanes' ? i : 0, times)));
      const seconds = (performance.now() - start) / 1000;
      times.sort((a, b) => a - b);
      const at = (q: number) => round(times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0);
      results[way].push({ jobs_per_s: round((loops * WRITES * BATCH) / seconds, 0), write_p50_ms: at(0.5), write_p99_ms: at(0.99), load: round(load) });
      process.stderr.write(`[lane-writes] round ${r + 1} ${way}: ${JSON.stringify(results[way].at(-1))}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify({ benchmark: 'submit-lane-writes', settings: { rounds: ROUNDS, writes: WRITES, batch: BATCH, writers: WRITERS }, results }, null, 2)}\n`);
} finally {
  await db.destroy();
  await stack.stop();
}
