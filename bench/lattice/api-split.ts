/**
 * The four jobs of the per-attempt split through the API (docs/performance.md › Run time through
 * the API: where the rest goes): the hard 2-D 2000² and 3-D 159³ shortest paths, components on
 * 200³ at density 0.2, and an 8×8 path; best and median `run_ms` of `runs` runs each after one
 * unmeasured run, on a stack of its own (bench/lattice/api-runs.ts).
 *
 *   node --import tsx bench/lattice/api-split.ts [runs] [cases: 2d,3d,cc,tiny]
 */
import { loadavg } from 'node:os';
import { type ApiCase, apiTimings } from './api-runs.ts';
import { blockedMask, HARD_DENSITY_2D, HARD_DENSITY_3D, hardPath, latticeCase } from './lattices.ts';

const runs = Number(process.argv[2] ?? 5);
const wanted = new Set((process.argv[3] ?? '2d,3d,cc,tiny').split(','));
const path = (key: string, shape: number[], density: number): ApiCase & { key: string } => {
  const c = hardPath(shape, density, blockedMask(latticeCase(shape, density)));
  return { key, name: `shortest_path ${c.name}`, type: 'shortest_path', lattice: c.spec, params: { start: c.start, end: c.end }, runs };
};
const all: Array<ApiCase & { key: string }> = [
  path('2d', [2000, 2000], HARD_DENSITY_2D),
  path('3d', [159, 159, 159], HARD_DENSITY_3D),
  { key: 'cc', name: 'components 3-D 200³ density 0.2', type: 'components', lattice: { dimensions: 3, size: 200, obstacles: { density: 0.2, seed: 7 } }, params: {}, runs },
  { key: 'tiny', name: 'shortest_path 2-D 8×8, no obstacles', type: 'shortest_path', lattice: { shape: [8, 8] }, params: { start: [0, 0], end: [7, 7] }, runs },
];
const load = loadavg()[0];
const timings = await apiTimings(
  all.filter((c) => wanted.has(c.key)),
  2,
  (line) => process.stderr.write(`${line}\n`),
);
for (const t of timings) {
  console.log(JSON.stringify({ case: t.name, best_run_ms: t.best_run_ms, median_run_ms: t.median_run_ms, run_ms: t.run_ms, error: t.error, load_before: load, load_after: loadavg()[0] }));
}
