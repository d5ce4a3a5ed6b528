/**
 * `node --import tsx bench/pipeline/chunk-kernel-floor.ts [-- --chunks N] [-- --rounds N]`: the
 * least a worker could spend on a tiny batch job if a chunk were the stored unit (docs/performance.md
 * › The chunk as the stored unit): per chunk of 100 8×8 shortest_path jobs, its parameters parsed
 * from one JSON text, each kernel run inline (`KernelPool.runInline`, as the chunk loop's fast
 * path), and the results written as one JSON text. No database, no Redis, no per-job objects
 * beyond the kernel's answer. CPU ms per job of this process, per round, after the first. JSON on stdout.
 */
import { loadavg } from 'node:os';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const CHUNKS = option('chunks', 200);
const ROUNDS = option('rounds', 6);
const CHUNK = 100;

// KERNEL_INLINE_MAX_CELLS's default: an 8×8 job runs inline.
const pool = new KernelPool({ threads: 1, inlineMaxCells: 4096 });
await pool.start();
try {
  const lattice = { shape: [8, 8], boundary: 'open' };
  const texts = Array.from({ length: CHUNKS }, (_, c) => JSON.stringify(Array.from({ length: CHUNK }, (_, i) => ({ start: [0, 0], end: [7, (c + i) % 8] }))));
  const perJob: number[] = [];
  let bytes = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    const before = process.cpuUsage();
    for (const text of texts) {
      const params = JSON.parse(text) as unknown[];
      const results: unknown[] = [];
      for (const p of params) {
        const run = pool.runInline('shortest_path', lattice, p);
        if (run === undefined) throw new Error('an 8×8 job did not run inline');
        results.push(await run);
      }
      bytes += JSON.stringify(results).length;
    }
    const used = process.cpuUsage(before);
    if (round > 0) perJob.push(Math.round(((used.user + used.system) / 1000 / (CHUNKS * CHUNK)) * 10000) / 10000);
  }
  process.stdout.write(
    `${JSON.stringify({ load_average: loadavg().map((l) => Math.round(l * 100) / 100), jobs_per_round: CHUNKS * CHUNK, result_bytes_per_job: Math.round(bytes / ((ROUNDS + 1) * CHUNKS * CHUNK)), cpu_ms_per_job: perJob })}\n`,
  );
} finally {
  await pool.close();
}
