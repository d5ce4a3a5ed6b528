/**
 * The two-thread shortest path with and without the lower-bound dive in front, one pool of two
 * threads, runs alternating: `strategy: 'auto'` (a short dive alone, then side 0 diving while side 1
 * searches) against `strategy: 'bfs'` (no dive) and one thread, on the bench's hard 2-D and 3-D
 * lattices of 4·10^6 cells and an easy 2-D one. Prints the median wall ms of each after one warm-up.
 *
 *   node --import tsx bench/lattice/dive-fold-ab.ts [ROUNDS]
 */
import { loadavg } from 'node:os';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import type { KernelRunOptions } from '../../worker/kernels/kernel-run.ts';
import { HARD_DENSITY_2D, HARD_DENSITY_3D, blockedMask, easyPath, hardPath, latticeCase } from './lattices.ts';

const rounds = Number(process.argv[2] ?? 9);
const hard = (shape: number[], density: number) => hardPath(shape, density, blockedMask(latticeCase(shape, density)));
const cases = [hard([2000, 2000], HARD_DENSITY_2D), hard([159, 159, 159], HARD_DENSITY_3D), easyPath(2, 2000)];
const variants: KernelRunOptions[] = [{ strategy: 'auto' }, { strategy: 'bfs' }, { strategy: 'auto', threads: 1 }];

const pool = new KernelPool({ threads: 2 });
await pool.start();
try {
  for (const c of cases) {
    const params = { start: c.start, end: c.end };
    const walls = new Map<string, number[]>();
    for (let r = 0; r <= rounds; r++) {
      for (const variant of variants) {
        const started = performance.now();
        const { stats } = await pool.runDetailed('shortest_path', c.spec, params, variant);
        const key = `${JSON.stringify(variant)} → ${stats.threads} thread(s), ${stats.method}`;
        if (r > 0) walls.set(key, [...(walls.get(key) ?? []), performance.now() - started]);
      }
    }
    for (const [key, ms] of walls) {
      const sorted = ms.sort((a, b) => a - b);
      console.log(JSON.stringify({ lattice: c.name, run: key, median_ms: Math.round(10 * sorted[sorted.length >> 1]!) / 10, runs: sorted.length, load_average: loadavg()[0] }));
    }
  }
} finally {
  await pool.close();
}
