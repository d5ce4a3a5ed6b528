/**
 * The hard 2-D 2000² shortest path, run after run in one fresh pool (two threads; `auto`, or the
 * thread count given second): the
 * wall time of each run, to see how a pool warms up to a lattice size (docs/performance.md › A
 * fourth machine, 2026-12-07 morning). Node's flags (e.g. `--no-liftoff`) pass through.
 *
 *   node --import tsx bench/lattice/path-warmup.ts [runs] [threads]
 */
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { blockedMask, HARD_DENSITY_2D, hardPath, latticeCase } from './lattices.ts';

const runs = Number(process.argv[2] ?? 16);
const threads = process.argv[3] === undefined ? 'auto' : Number(process.argv[3]);
const shape = [2000, 2000];
const path = hardPath(shape, HARD_DENSITY_2D, blockedMask(latticeCase(shape, HARD_DENSITY_2D)));
const pool = new KernelPool({ threads: 2 });
await pool.start();
try {
  const wallMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await pool.run('shortest_path', path.spec, { start: path.start, end: path.end }, { threads });
    wallMs.push(Math.round((performance.now() - started) * 10) / 10);
  }
  console.log(JSON.stringify({ case: `shortest_path ${path.name}`, threads, flags: process.execArgv.filter((a, i, all) => a !== '--import' && all[i - 1] !== '--import'), wall_ms: wallMs }));
} finally {
  await pool.close();
}
