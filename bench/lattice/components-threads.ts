/**
 * Components on 216³ (density 0.2) in one pool process with 1 and then 2 threads, the two
 * alternating round by round (order swapped every round), as `npm run bench:lattice --
 * --threads-only --kernel components` runs them in two processes. Per run: the pool's wall time,
 * the slowest slab thread's kernel time (`run_ms`), the process's CPU (all threads) and its minor
 * page faults. Given another checkout's directory it runs that checkout's pool instead, for
 * before/after in one sitting.
 *
 *   node --import tsx bench/lattice/components-threads.ts [CHECKOUT_DIR] [rounds] [side] [density]
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Pool {
  start(): Promise<void>;
  close(): Promise<void>;
  run(type: string, spec: unknown, params: unknown, options?: object): Promise<unknown>;
  runDetailed(type: string, spec: unknown, params: unknown, options?: object): Promise<{ result: Record<string, unknown>; stats: { run_ms: number; wall_ms: number } }>;
}

const dir = process.argv[2] ?? '.';
const rounds = Number(process.argv[3] ?? 8);
const side = Number(process.argv[4] ?? 216);
const density = Number(process.argv[5] ?? 0.2);
/** Thread counts to run (`1,2`, or one of them alone, as the bench's processes do) and warm-up runs of the job itself. */
const counts = (process.argv[6] ?? '1,2').split(',').map(Number);
const warmRuns = Number(process.argv[7] ?? 2);
const root = pathToFileURL(resolve(dir)).href;
const { KernelPool } = (await import(`${root}/worker/kernels/kernel-pool.ts`)) as { KernelPool: new (options: object) => Pool };

const spec = { shape: [side, side, side], boundary: 'open', obstacles: { density, seed: 7 } };
const warm = { shape: [27, 27, 27], boundary: 'open', obstacles: { density, seed: 8 } };
const median = (values: number[]): number => Number([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!.toFixed(1));
const r1 = (x: number): number => Number(x.toFixed(1));

const pool = new KernelPool({ threads: 2 });
await pool.start();
try {
  for (const threads of counts) {
    for (let i = 0; i < 20; i++) await pool.run('components', warm, {}, { threads });
    for (let i = 0; i < warmRuns; i++) await pool.run('components', spec, {}, { threads });
  }
  const rows: Record<number, Array<{ wall: number; run: number; cpu: number; faults: number }>> = { 1: [], 2: [] };
  let count: unknown;
  for (let round = 0; round < rounds; round++) {
    for (const threads of round % 2 === 0 ? counts : [...counts].reverse()) {
      const cpu = process.cpuUsage();
      const faults = process.resourceUsage().minorPageFault;
      const started = performance.now();
      const { result, stats } = await pool.runDetailed('components', spec, {}, { threads });
      const wall = performance.now() - started;
      const used = process.cpuUsage(cpu);
      count = result['count'];
      rows[threads]!.push({ wall, run: stats.run_ms, cpu: (used.user + used.system) / 1000, faults: process.resourceUsage().minorPageFault - faults });
    }
  }
  const summary = (threads: number) => {
    const list = rows[threads]!;
    return {
      median_wall_ms: median(list.map((r) => r.wall)),
      best_wall_ms: r1(Math.min(...list.map((r) => r.wall))),
      median_run_ms: median(list.map((r) => r.run)),
      // The pool's own share of a run: wall minus the slowest thread's task (the hand-offs, main's steps).
      median_outside_ms: Number([...list.map((r) => r.wall - r.run)].sort((a, b) => a - b)[Math.floor(list.length / 2)]!.toFixed(2)),
      median_cpu_ms: median(list.map((r) => r.cpu)),
      median_faults: median(list.map((r) => r.faults)),
      walls: list.map((r) => r1(r.wall)),
      cpus: list.map((r) => r1(r.cpu)),
      faults: list.map((r) => r.faults),
    };
  };
  const one = counts.includes(1) ? summary(1) : null;
  const two = counts.includes(2) ? summary(2) : null;
  console.log(
    JSON.stringify({
      checkout: dir,
      lattice: `3-D side ${side}, density ${density}`,
      count,
      load_average: Number(loadavg()[0]!.toFixed(1)),
      one_thread: one,
      two_threads: two,
      wall_ratio: one && two ? Number((one.median_wall_ms / two.median_wall_ms).toFixed(2)) : null,
      cpu_ratio: one && two ? Number((one.median_cpu_ms / two.median_cpu_ms).toFixed(2)) : null,
    }),
  );
} finally {
  await pool.close();
}
