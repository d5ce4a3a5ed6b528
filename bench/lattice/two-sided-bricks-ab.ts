/**
 * The shortest path on hard 3-D lattices, alternating in one process: one thread (flat-bfs.ts,
 * rows below 2^22 cells, bricks from there), two threads with the state in rows
 * (two-sided-bfs.ts) and two threads in bricks (two-sided-bricks.ts), `strategy: 'bfs'` (the dive
 * skipped). Two pools of two threads (only one runs at a time): the pool option
 * `twoSidedBrickMinCells` picks the two-thread layout. Prints one JSON line per run: load
 * average, wall, process CPU ms and the busiest thread's CPU ms, length, visited; then medians.
 *
 *   node --import tsx bench/lattice/two-sided-bricks-ab.ts [3d216,3d159,3d256,3d512] [ROUNDS] [one,rows,bricks]
 */
import { loadavg } from 'node:os';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { busiestThreadMs, threadCpuMs } from '../support/thread-cpu.ts';
import { HARD_DENSITY_3D, blockedMask, hardPath, latticeCase } from './lattices.ts';
import { timedPathRun } from './timed-path-run.ts';

const names = (process.argv[2] ?? '3d216').split(',');
const rounds = Number(process.argv[3] ?? 5);
const variants = (process.argv[4] ?? 'one,rows,bricks').split(',');

interface Case {
  name: string;
  spec: unknown;
  start: number[];
  end: number[];
}

const hard = (side: number): Case => {
  const shape = [side, side, side];
  const found = hardPath(shape, HARD_DENSITY_3D, blockedMask(latticeCase(shape, HARD_DENSITY_3D)));
  return { name: found.name, spec: found.spec, start: found.start, end: found.end };
};
/** Corner to corner (hardPath's cluster search is too slow at 512³); the dive is skipped anyway. */
const corner = (side: number, density: number, seed: number): Case => ({
  name: `3-D ${side}^3 density ${density} seed ${seed}, corners`,
  spec: { shape: [side, side, side], obstacles: { density, seed } },
  start: [0, 0, 0],
  end: [side - 1, side - 1, side - 1],
});
const cases: Record<string, () => Case> = {
  '3d159': () => hard(159),
  '3d216': () => hard(216),
  '3d256': () => corner(256, 0.5, 1),
  '3d512': () => corner(512, 0.3, 7),
};

const rows = new KernelPool({ threads: 2, twoSidedBrickMinCells: Infinity, memoryLimitBytes: 2 ** 31 });
const bricks = new KernelPool({ threads: 2, twoSidedBrickMinCells: 0, memoryLimitBytes: 2 ** 31 });
await Promise.all([rows.start(), bricks.start()]);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  for (const name of names) {
    const lattice = cases[name]!();
    const params = { start: lattice.start, end: lattice.end };
    const run = async (variant: string) => {
      const pool = variant === 'bricks' ? bricks : rows;
      const threads = variant === 'one' ? 1 : 2;
      const before = threadCpuMs();
      const { outcome, result, load_average, wall_ms, cpu_ms } = await timedPathRun(pool, lattice.spec, params, threads);
      return {
        lattice: lattice.name,
        variant,
        layout: outcome.stats.layout ?? null,
        load_average,
        wall_ms,
        cpu_ms,
        busiest_thread_cpu_ms: Math.round(busiestThreadMs(before, threadCpuMs())),
        build_ms: Math.round(outcome.stats.build_ms),
        run_ms: Math.round(outcome.stats.run_ms),
        length: result.length,
        visited: result.visited,
        bits_per_cell: Number(((8 * result.memory_bytes) / outcome.stats.cells).toFixed(2)),
      };
    };
    for (const variant of variants) await run(variant);
    const all: Record<string, { wall_ms: number; cpu_ms: number; length: number | null }[]> = {};
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        const measured = await run(variant);
        console.log(JSON.stringify(measured));
        (all[variant] ??= []).push(measured);
      }
    }
    const summary = Object.fromEntries(
      Object.entries(all).map(([variant, runs]) => [variant, { median_wall_ms: median(runs.map((r) => r.wall_ms)), median_cpu_ms: median(runs.map((r) => r.cpu_ms)), lengths: [...new Set(runs.map((r) => r.length))] }]),
    );
    console.log(JSON.stringify({ lattice: lattice.name, summary, load_after: loadavg().map((x) => Number(x.toFixed(2))) }));
  }
} finally {
  await Promise.all([rows.close(), bricks.close()]);
}
