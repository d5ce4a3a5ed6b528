/**
 * Diffusion on `npm run bench:lattice`'s 2-D periodic lattice (1024², density 0.3, 40 steps,
 * alpha 0.2, a source on a corner), in process through the kernel pool with 1 and 2 threads,
 * beside the numpy stencil (grid_peers.py) in the same run: best of `repeats` of the kernel's
 * build and step time (as a job's run_ms counts them), and the answers.
 *
 *   node --import tsx bench/lattice/diffusion-2d-measure.ts [side] [repeats] [steps]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { blockedMask, indexOf, latticeCase, writeMask } from './lattices.ts';

const side = Number(process.argv[2] ?? 1024);
const repeats = Number(process.argv[3] ?? 5);
const steps = Number(process.argv[4] ?? 40);
const lattice = latticeCase([side, side], 0.3, 'periodic');
const at = Math.floor(side * 0.5);
const params = { steps, alpha: 0.2, initial: [{ cell: [at, at], value: 1000 }], sources: [{ cell: [0, 0], value: 5 }] };

const pool = new KernelPool({ threads: 2 });
await pool.start();
const row: Record<string, unknown> = { side, steps, load_average: loadavg().map((x) => Number(x.toFixed(1))) };
// One unmeasured run per thread count first: each pool thread compiles its module once.
for (const threads of [1, 2]) await pool.runDetailed('diffusion', lattice.spec, params, { threads });
for (const threads of [1, 2]) {
  let best = { run_ms: Infinity, build_ms: 0, wall_ms: 0 };
  let bestCpu = Infinity;
  let result: Record<string, unknown> = {};
  for (let i = 0; i < repeats; i++) {
    // CPU of every thread of this process: on a busy machine the steadier figure.
    const cpu = process.cpuUsage();
    const { result: r, stats } = await pool.runDetailed('diffusion', lattice.spec, params, { threads });
    const spent = process.cpuUsage(cpu);
    bestCpu = Math.min(bestCpu, (spent.user + spent.system) / 1000);
    if (stats.build_ms + stats.run_ms < best.build_ms + best.run_ms || i === 0) best = { run_ms: stats.run_ms, build_ms: stats.build_ms, wall_ms: stats.wall_ms };
    result = r as Record<string, unknown>;
  }
  const total = best.build_ms + best.run_ms;
  row[`threads${threads}`] = {
    build_ms: Math.round(best.build_ms * 10) / 10,
    run_ms: Math.round(best.run_ms * 10) / 10,
    wall_ms: Math.round(best.wall_ms * 10) / 10,
    cpu_ms: Math.round(bestCpu),
    mcell_steps_per_s: Math.round((side * side * steps) / total / 1000),
    max: result['max'],
    total_heat: result['total_heat'],
  };
}
await pool.close();

const work = mkdtempSync(join(tmpdir(), 'diffusion-2d-'));
try {
  const mask = join(work, 'mask');
  writeMask(blockedMask(lattice, [indexOf(lattice.shape, [at, at]), 0]), mask);
  const peer = fileURLToPath(new URL('./grid_peers.py', import.meta.url));
  const job = { shape: lattice.shape, boundary: 'periodic', params, repeats: 3 };
  const numpy = JSON.parse(execFileSync('python3', [peer, 'diffusion', JSON.stringify(job), mask], { encoding: 'utf8' })) as Record<string, unknown>;
  row['numpy'] = { e2e_ms: Math.round(numpy['e2e_ms'] as number), cpu_ms: Math.round(numpy['cpu_ms'] as number), max: numpy['max'], total_heat: numpy['total_heat'] };
  for (const threads of [1, 2]) {
    const ours = row[`threads${threads}`] as { build_ms: number; run_ms: number };
    row[`ratio_threads${threads}`] = Math.round(((numpy['e2e_ms'] as number) / (ours.build_ms + ours.run_ms)) * 100) / 100;
    row[`cpu_ratio_threads${threads}`] = Math.round(((numpy['cpu_ms'] as number) / (row[`threads${threads}`] as { cpu_ms: number }).cpu_ms) * 100) / 100;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify(row));
