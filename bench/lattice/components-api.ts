/**
 * Components through the API (best `run_ms` of 3, one worker with a 2-thread pool), without and
 * with the `labels` artefact (`artefacts: ["labels"]`: every cell's label stored as a blob; the
 * cluster sizes are stored either way, from the same labelling pass), side by side in one run,
 * beside scipy.ndimage.label on the same lattices. Pass another checkout's directory to time its
 * stack instead (its own bench/lattice/api-runs.ts).
 *
 *   node --import tsx bench/lattice/components-api.ts [CHECKOUT_DIR] [--no-labels]
 *
 * `--no-labels` times the jobs without artefacts only (the labels' blob takes seconds).
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { apiTimings as ApiTimings } from './api-runs.ts';

const PEERS = fileURLToPath(new URL('./cc_diffusion_peers.py', import.meta.url));
const args = process.argv.slice(2);
const noLabels = args.includes('--no-labels');
const checkout = args.find((arg) => !arg.startsWith('--'));
const dir = checkout ? resolve(checkout) : fileURLToPath(new URL('../..', import.meta.url));
const { apiTimings } = (await import(pathToFileURL(resolve(dir, 'bench/lattice/api-runs.ts')).href)) as { apiTimings: typeof ApiTimings };

const side = 200;
const densities = [0.2, 0.69];
const load = loadavg().map((x) => Number(x.toFixed(1)));
const variants = noLabels ? [{ labels: false }] : [{ labels: false }, { labels: true }];
const cases = densities.flatMap((density) =>
  variants.map(({ labels }) => ({
    name: `components 3-D ${side}³ density ${density}${labels ? ' with labels' : ''}`,
    type: 'components' as const,
    lattice: { dimensions: 3, size: side, obstacles: { density, seed: 7 } },
    params: {},
    ...(labels ? { artefacts: ['labels'] } : {}),
    runs: 3,
  })),
);
const timings = await apiTimings(cases, 2, (line) => console.error(line));
const loadAfter = loadavg().map((x) => Number(x.toFixed(1)));
for (const [k, density] of densities.entries()) {
  const scipy = JSON.parse(execFileSync('python3', [PEERS, 'components', String(side), '3', String(density), '7', '3'], { encoding: 'utf8' })) as { ms: number; count: number };
  for (const [v, { labels }] of variants.entries()) {
    const t = timings[k * variants.length + v]!;
    console.log(
      JSON.stringify({
        checkout: dir,
        load_average: load,
        load_average_after: loadAfter,
        side,
        density,
        labels,
        best_run_ms: t.best_run_ms,
        median_run_ms: t.median_run_ms,
        run_ms: t.run_ms,
        count: (t.result as { count?: number } | null)?.count,
        scipy_ms: Math.round(scipy.ms),
        scipy_count: scipy.count,
        ratio: t.best_run_ms ? Number((scipy.ms / t.best_run_ms).toFixed(2)) : null,
      }),
    );
  }
}
