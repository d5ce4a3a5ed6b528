/**
 * The hard shortest paths of `npm run bench:lattice` (no Manhattan-length path) through the real
 * API alone: a stack of its own, best `run_ms` of the measured runs. A quick way to see what a
 * change to the search does end to end without the rest of the benchmark.
 *
 *   node --import tsx bench/lattice/path-api.ts [runs] [kernel threads]
 *
 * Profile the worker with BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" (bench/support/stack.ts).
 */
import { loadavg } from 'node:os';
import { apiTimings } from './api-runs.ts';
import { blockedMask, HARD_DENSITY_2D, HARD_DENSITY_3D, hardPath, latticeCase } from './lattices.ts';

const runs = Number(process.argv[2] ?? 3);
const threads = Number(process.argv[3] ?? 2);
const cases = ([[[2000, 2000], HARD_DENSITY_2D], [[159, 159, 159], HARD_DENSITY_3D]] as const).map(([shape, density]) => {
  const c = hardPath([...shape], density, blockedMask(latticeCase([...shape], density)));
  return { name: c.name, type: 'shortest_path' as const, lattice: c.spec, params: { start: c.start, end: c.end }, runs };
});
const load = loadavg()[0];
const timings = await apiTimings(cases, threads, (line) => process.stderr.write(`${line}\n`));
for (const t of timings) {
  console.log(JSON.stringify({ case: t.name, best_run_ms: t.best_run_ms, run_ms: t.run_ms, length: t.result?.['length'], visited: t.result?.['visited'], error: t.error, load_before: load, load_after: loadavg()[0] }));
}
