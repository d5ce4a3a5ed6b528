/**
 * A pool warmed by a given list of jobs (kernel-warm-up.ts's shape; `default` for the shipped
 * list) in the shipped order (`WARM_ORDER=sequential`: job after job), then the hard 2-D 2000²
 * path (`TARGET=diffusion2d`: the 1024² periodic diffusion) run after run: wall, each side's CPU and run-queue delay (KERNEL_TASK_STATS counters:
 * `git apply bench/lattice/kernel-task-stats.patch` first) and, with `--trace-opt` on,
 * the TurboFan compilations each run set off (count the `completed compiling` lines between the
 * `run` lines).
 *
 *   node --trace-opt --import tsx bench/lattice/warm-up-ab.ts [runs] [warm-up: default|JSON list] [warm-up runs]
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { WARM_UP_JOBS, warmUpCount, warmUpOrder, type WarmUpJob } from '../../worker/kernels/kernel-warm-up.ts';
import { blockedMask, HARD_DENSITY_2D, hardPath, latticeCase } from './lattices.ts';

const runs = Number(process.argv[2] ?? 8);
const jobs: readonly WarmUpJob[] = (process.argv[3] ?? 'default') === 'default' ? WARM_UP_JOBS : (JSON.parse(process.argv[3]!) as WarmUpJob[]);
const warmRuns = Number(process.argv[4] ?? 30);
const file = process.env.KERNEL_TASK_STATS ?? '/tmp/kernel-task-stats.ndjson';
rmSync(file, { force: true });
const shape = [2000, 2000];
const path = hardPath(shape, HARD_DENSITY_2D, blockedMask(latticeCase(shape, HARD_DENSITY_2D)));
const plane = [1024, 1024];
// TARGET=diffusion2d: the 2-D periodic diffusion of `npm run bench:lattice` (1024², 40 steps) instead of the path.
const target =
  process.env.TARGET === 'diffusion2d'
    ? { type: 'diffusion' as const, spec: latticeCase(plane, 0.3, 'periodic').spec, params: { steps: 40, alpha: 0.2, initial: [{ cell: [512, 512], value: 1000 }], sources: [{ cell: [0, 0], value: 5 }] }, kind: 'diffusion' }
    : { type: 'shortest_path' as const, spec: path.spec, params: { start: path.start, end: path.end }, kind: 'two_sided_bfs' };
const pool = new KernelPool({ threads: 2 });
await pool.start();
let seen = 0;
const fresh = (): Array<Record<string, number | string>> => {
  if (!existsSync(file)) return [];
  const all = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number | string>);
  const out = all.slice(seen);
  seen = all.length;
  return out;
};
try {
  const started = performance.now();
  // WARM_ORDER=sequential: job after job, as the warm-up ran before it spread them (warmUpOrder).
  const order = process.env.WARM_ORDER === 'sequential' ? jobs.flatMap((job) => Array.from({ length: warmUpCount(job, warmRuns) }, () => job)) : warmUpOrder(jobs, warmRuns);
  for (const job of order) await pool.run(job.type, job.spec, job.params, { threads: 2 });
  const warmMs = Math.round(performance.now() - started);
  fresh();
  console.log(`warm-up ${warmMs} ms`);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await pool.run(target.type, target.spec, target.params, { threads: 'auto' });
    const wall = Math.round((performance.now() - t0) * 10) / 10;
    const sides = fresh().filter((l) => l['kind'] === target.kind);
    console.log(`run ${i}: wall ${wall} side_wall ${sides.map((l) => l['wall']).join('/')} cpu ${sides.map((l) => l['cpu']).join('/')} delay ${sides.map((l) => l['delay']).join('/')}`);
  }
} finally {
  await pool.close();
}
