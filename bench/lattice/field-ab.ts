/**
 * CPU and minor page faults per run of the unweighted distance field with diagonals (the
 * benchmark's 3-D case, and a 2-D and a periodic one beside it): each run 12 times in one thread
 * without the pool, the first two left out. Given another checkout's directory it measures that
 * checkout's kernel instead, for before/after in one sitting.
 *
 *   node --import tsx bench/lattice/field-ab.ts [CHECKOUT_DIR]
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { measureCpuAndFaults } from '../support/in-process-runs.ts';

type Fn = (...args: unknown[]) => unknown;
const root = pathToFileURL(resolve(process.argv[2] ?? '.')).href;
const load = async (path: string): Promise<Record<string, Fn>> => (await import(`${root}/${path}`)) as Record<string, Fn>;
const resolveJob = (await load('shared/lattice/job.ts'))['resolveJob']!;
const distanceField = (await load('worker/kernels/distance-field.ts'))['distanceField']!;
const { JobControl } = (await import(`${root}/worker/kernels/job-control.ts`)) as { JobControl: { create(n: number): unknown } };

const cases = [
  { name: '3-D 100³ density 0.2, 3 cells', spec: { shape: [100, 100, 100], obstacles: { density: 0.2, seed: 7 } }, sources: [[0, 0, 0], [50, 50, 50], [99, 99, 99]] },
  { name: '2-D 1000² density 0.4, 1 cell', spec: { shape: [1000, 1000], obstacles: { density: 0.4, seed: 7 } }, sources: [[500, 500]] },
  { name: '3-D 128³ periodic density 0.3, 1 cell', spec: { shape: [128, 128, 128], boundary: 'periodic', obstacles: { density: 0.3, seed: 7 } }, sources: [[0, 0, 0]] },
];
for (const { name, spec, sources } of cases) {
  const { lattice, params } = resolveJob('distance_field', spec, { sources, connectivity: 'full' }) as { lattice: unknown; params: unknown };
  let answer: unknown = null;
  const result = measureCpuAndFaults(12, () => {
    answer = (distanceField(lattice, params, JobControl.create(1)) as { result: unknown }).result;
  });
  const { histogram: _histogram, ...summary } = answer as Record<string, unknown>;
  console.log(JSON.stringify({ case: name, ...result, load: loadavg()[0], answer: summary }));
}
