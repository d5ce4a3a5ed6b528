/**
 * The shortest path on the threads rows' lattices, one thread against two, runs alternating in
 * one process and one pool of two threads (`strategy: 'bfs'`, so the dive does not answer): the
 * one-thread WebAssembly search (flat-bfs.ts) against the two-thread search (two-sided-bfs.ts).
 * Prints one JSON line per run with the load average, wall and process CPU ms.
 *
 *   node --import tsx bench/lattice/two-sided-ab.ts [2d,3d159,3d216,...] [ROUNDS]
 */
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { HARD_DENSITY_2D, HARD_DENSITY_3D, blockedMask, easyPath, hardPath, latticeCase, type PathCase } from './lattices.ts';
import { timedPathRun } from './timed-path-run.ts';

const names = (process.argv[2] ?? '2d,3d159,3d216').split(',');
const rounds = Number(process.argv[3] ?? 3);

const hard = (shape: number[], density: number): PathCase => hardPath(shape, density, blockedMask(latticeCase(shape, density)));
const cases: Record<string, () => PathCase> = {
  '2d': () => hard([3200, 3200], HARD_DENSITY_2D),
  '2d2000': () => hard([2000, 2000], HARD_DENSITY_2D),
  '2d1448': () => hard([1448, 1448], HARD_DENSITY_2D),
  '2d1024': () => hard([1024, 1024], HARD_DENSITY_2D),
  '3d128': () => hard([128, 128, 128], HARD_DENSITY_3D),
  '3d159': () => hard([159, 159, 159], HARD_DENSITY_3D),
  '3d216': () => hard([216, 216, 216], HARD_DENSITY_3D),
  easy2d: () => easyPath(2, 3200),
  easy3d: () => easyPath(3, 216),
};

const pool = new KernelPool({ threads: 2 });
await pool.start();
try {
  for (const name of names) {
    const lattice = cases[name]!();
    const params = { start: lattice.start, end: lattice.end };
    const run = async (threads: number) => {
      const { outcome, result, load_average, wall_ms, cpu_ms } = await timedPathRun(pool, lattice.spec, params, threads);
      return {
        lattice: lattice.name,
        cells: lattice.cells,
        threads: outcome.stats.threads,
        load_average,
        wall_ms,
        cpu_ms,
        run_ms: Math.round(outcome.stats.run_ms),
        build_ms: Math.round(outcome.stats.build_ms),
        length: result.length,
        visited: result.visited,
        bits_per_cell: Number(((8 * result.memory_bytes) / lattice.cells).toFixed(2)),
      };
    };
    // Warm-up: both engines compiled, memories mapped.
    await run(1);
    await run(2);
    for (let round = 0; round < rounds; round++) {
      for (const threads of round % 2 === 0 ? [1, 2] : [2, 1]) console.log(JSON.stringify(await run(threads)));
    }
  }
} finally {
  await pool.close();
}
