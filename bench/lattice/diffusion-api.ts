/**
 * Diffusion through the API (best `run_ms` of 3, one worker with a 2-thread pool) on
 * `npm run bench:lattice`'s two diffusion lattices (3-D 159³ and 2-D 1024² periodic, 40 steps),
 * beside the numpy stencil (grid_peers.py) on the same lattices in the same run. Pass another
 * checkout's directory to time its stack instead (its own bench/lattice/api-runs.ts).
 *
 *   node --import tsx bench/lattice/diffusion-api.ts [CHECKOUT_DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { apiTimings as ApiTimings } from './api-runs.ts';
import { blockedMask, DENSITY, indexOf, latticeCase, writeMask } from './lattices.ts';

const dir = process.argv[2] ? resolve(process.argv[2]) : fileURLToPath(new URL('../..', import.meta.url));
const { apiTimings } = (await import(pathToFileURL(resolve(dir, 'bench/lattice/api-runs.ts')).href)) as { apiTimings: typeof ApiTimings };

const at = (shape: number[], f: number): number[] => shape.map((side) => Math.floor(side * f));
const cube = [159, 159, 159];
const plane = [1024, 1024];
const cases = [
  { lattice: latticeCase(cube, DENSITY), params: { steps: 40, alpha: 0.15, initial: [{ cell: at(cube, 0.5), value: 1000 }], sources: [{ cell: at(cube, 0.1), value: 1 }] } },
  { lattice: latticeCase(plane, 0.3, 'periodic'), params: { steps: 40, alpha: 0.2, initial: [{ cell: at(plane, 0.5), value: 1000 }], sources: [{ cell: [0, 0], value: 5 }] } },
];
const load = loadavg().map((x) => Number(x.toFixed(1)));
const timings = await apiTimings(
  cases.map((c) => ({ name: c.lattice.name, type: 'diffusion' as const, lattice: c.lattice.spec, params: c.params, runs: 3 })),
  2,
  (line) => console.error(line),
);
const work = mkdtempSync(join(tmpdir(), 'diffusion-api-'));
try {
  for (const [k, c] of cases.entries()) {
    const mask = join(work, `mask-${k}`);
    const open = [...c.params.initial, ...c.params.sources].map((p) => indexOf(c.lattice.shape, p.cell));
    writeMask(blockedMask(c.lattice, open), mask);
    const job = { shape: c.lattice.shape, boundary: c.lattice.boundary, params: c.params, repeats: 3 };
    const peer = fileURLToPath(new URL('./grid_peers.py', import.meta.url));
    const numpy = JSON.parse(execFileSync('python3', [peer, 'diffusion', JSON.stringify(job), mask], { encoding: 'utf8' })) as { e2e_ms: number; max: number };
    const t = timings[k]!;
    console.log(
      JSON.stringify({
        checkout: dir,
        lattice: c.lattice.name,
        load_average: load,
        load_average_after: loadavg().map((x) => Number(x.toFixed(1))),
        best_run_ms: t.best_run_ms,
        run_ms: t.run_ms,
        max: (t.result as { max?: number } | null)?.max,
        numpy_ms: Math.round(numpy.e2e_ms),
        numpy_max: numpy.max,
        ratio: t.best_run_ms ? Number((numpy.e2e_ms / t.best_run_ms).toFixed(2)) : null,
      }),
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
