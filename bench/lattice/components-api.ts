/**
 * Components through the API (best `run_ms` of 3, one worker with a 2-thread pool): the kernel
 * plus the labels artefact the job stores (a labelling pass over every cell and its blob),
 * beside scipy.ndimage.label on the same lattices. Pass another checkout's directory to time its
 * stack instead (its own bench/lattice/api-runs.ts).
 *
 *   node --import tsx bench/lattice/components-api.ts [CHECKOUT_DIR]
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { apiTimings as ApiTimings } from './api-runs.ts';

const PEERS = fileURLToPath(new URL('./cc_diffusion_peers.py', import.meta.url));
const dir = process.argv[2] ? resolve(process.argv[2]) : fileURLToPath(new URL('../..', import.meta.url));
const { apiTimings } = (await import(pathToFileURL(resolve(dir, 'bench/lattice/api-runs.ts')).href)) as { apiTimings: typeof ApiTimings };

const side = 200;
const densities = [0.2, 0.69];
const load = loadavg().map((x) => Number(x.toFixed(1)));
const timings = await apiTimings(
  densities.map((density) => ({ name: `components 3-D ${side}³ density ${density}`, type: 'components' as const, lattice: { dimensions: 3, size: side, obstacles: { density, seed: 7 } }, params: {}, runs: 3 })),
  2,
  (line) => console.error(line),
);
for (const [k, density] of densities.entries()) {
  const scipy = JSON.parse(execFileSync('python3', [PEERS, 'components', String(side), '3', String(density), '7', '3'], { encoding: 'utf8' })) as { ms: number; count: number };
  const t = timings[k]!;
  console.log(JSON.stringify({ checkout: dir, load_average: load, side, density, best_run_ms: t.best_run_ms, run_ms: t.run_ms, count: (t.result as { count?: number } | null)?.count, scipy_ms: Math.round(scipy.ms), scipy_count: scipy.count, ratio: t.best_run_ms ? Number((scipy.ms / t.best_run_ms).toFixed(2)) : null }));
}
