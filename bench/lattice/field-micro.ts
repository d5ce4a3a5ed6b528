/**
 * distance_field and min_cost_path kernels alone, in this thread (no pool): the benchmark's
 * lattices, CPU ms of each (best of `repeats`) and the answer, to compare engines before and
 * after a change and to profile with `--cpu-prof`.
 *
 *   node --import tsx bench/lattice/field-micro.ts [repeats] [case substring]
 */
import { loadavg } from 'node:os';
import { resolveJob } from '../../shared/lattice/job.ts';
import { distanceField } from '../../worker/kernels/distance-field.ts';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { minCostPath } from '../../worker/kernels/min-cost-path.ts';
import { weightedDistanceField } from '../../worker/kernels/weighted-distance-field.ts';
import { DENSITY, HARD_DENSITY_2D, SEED } from './lattices.ts';

const repeats = Number(process.argv[2] ?? 5);
const only = process.argv[3] ?? '';
const cpuMs = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
const spec = (shape: number[], density: number) => ({ shape, obstacles: { density, seed: SEED } });
const costs = { max: 9, seed: SEED };
const cases: Array<{ name: string; type: 'distance_field' | 'min_cost_path'; spec: unknown; params: unknown }> = [
  { name: 'field 2-D 2000² face axis', type: 'distance_field', spec: spec([2000, 2000], HARD_DENSITY_2D), params: { face: { axis: 0, side: 'low' }, connectivity: 'axis' } },
  { name: 'field 3-D 100³ full', type: 'distance_field', spec: spec([100, 100, 100], DENSITY), params: { sources: [[0, 0, 0], [50, 50, 50], [99, 99, 99]], connectivity: 'full' } },
  { name: 'weighted field 2-D 2000² face axis', type: 'distance_field', spec: spec([2000, 2000], HARD_DENSITY_2D), params: { face: { axis: 0, side: 'low' }, connectivity: 'axis', costs } },
  { name: 'weighted field 3-D 100³ full', type: 'distance_field', spec: spec([100, 100, 100], DENSITY), params: { sources: [[0, 0, 0], [50, 50, 50]], connectivity: 'full', costs } },
  { name: 'mincost 2-D 2000² axis', type: 'min_cost_path', spec: spec([2000, 2000], DENSITY), params: { start: [0, 0], end: [1999, 1999], costs, connectivity: 'axis' } },
  { name: 'mincost 2-D 1000² full', type: 'min_cost_path', spec: spec([1000, 1000], DENSITY), params: { start: [0, 0], end: [999, 999], costs, connectivity: 'full' } },
];
console.log(JSON.stringify({ load_average: loadavg().map((x) => Number(x.toFixed(1))) }));
for (const c of cases) {
  if (!c.name.includes(only)) continue;
  const job = resolveJob(c.type, c.spec, c.params);
  const control = JobControl.create(1);
  const run = (): unknown => {
    if (job.params.type === 'min_cost_path') {
      const outcome = minCostPath(job.lattice, job.params, control);
      const { path: _path, ...rest } = outcome.result;
      build = outcome.build_ms;
      return rest;
    }
    if (job.params.type !== 'distance_field') throw new Error('unexpected');
    const outcome = (job.params.costs === null ? distanceField : weightedDistanceField)(job.lattice, job.params, control);
    build = outcome.build_ms;
    return outcome.result;
  };
  let build = 0;
  let best = Infinity;
  let bestBuild = 0;
  let answer: unknown = null;
  for (let i = 0; i < repeats; i++) {
    const started = cpuMs();
    answer = run();
    const used = cpuMs() - started;
    if (used < best) [best, bestBuild] = [used, build];
  }
  console.log(JSON.stringify({ case: c.name, cpu_ms: Math.round(best), build_wall_ms: Math.round(bestBuild), answer }));
}
