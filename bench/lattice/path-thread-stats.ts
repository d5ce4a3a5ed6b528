/**
 * The hard 2-D 2000² shortest path run after run in one pool, with each kernel task's thread
 * counters (CPU, run-queue delay, minor faults, heap growth, from /proc/thread-self) and, for side
 * 0's task, the CPU every thread of the process took meanwhile (V8's background threads among them).
 * The counters come from bench/lattice/kernel-task-stats.patch: `git apply` it first (it writes
 * a line per task to KERNEL_TASK_STATS).
 *
 *   node --import tsx bench/lattice/path-thread-stats.ts [runs] [warm-up runs]
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { blockedMask, HARD_DENSITY_2D, hardPath, latticeCase } from './lattices.ts';

const runs = Number(process.argv[2] ?? 12);
const warmUpRuns = Number(process.argv[3] ?? 30);
const file = process.env.KERNEL_TASK_STATS ?? '/tmp/kernel-task-stats.ndjson';
rmSync(file, { force: true });
const shape = [2000, 2000];
const path = hardPath(shape, HARD_DENSITY_2D, blockedMask(latticeCase(shape, HARD_DENSITY_2D)));
const pool = new KernelPool({ threads: 2, warmUpRuns });
await pool.start();
let seen = 0;
const lines = (): Array<Record<string, unknown>> => {
  if (!existsSync(file)) return [];
  const all = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const fresh = all.slice(seen);
  seen = all.length;
  return fresh;
};
try {
  const warm = lines();
  console.log(JSON.stringify({ warm_up_ms: Math.round(pool.warmUpMs), warm_tasks: warm.length, warm_minflt: warm.reduce((a, l) => a + (l['minflt'] as number), 0) }));
  for (let i = 0; i < runs; i++) {
    const r0 = process.resourceUsage();
    const started = performance.now();
    await pool.run('shortest_path', path.spec, { start: path.start, end: path.end }, { threads: 'auto' });
    const wall = Math.round((performance.now() - started) * 10) / 10;
    const r1 = process.resourceUsage();
    const tasks = lines().map((l) => `${l['kind']}${l['side'] ?? ''}@t${l['t']} w${l['wall']} cpu${l['cpu']} d${l['delay']} f${l['minflt']} h${l['heap']}K${l['others'] ? ' ' + JSON.stringify(l['others']) : ''}`);
    console.log(`run ${i}: wall ${wall} proc_minflt ${r1.minorPageFault - r0.minorPageFault} | ${tasks.join(' | ')}`);
  }
} finally {
  await pool.close();
}
