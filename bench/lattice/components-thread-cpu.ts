/**
 * Where a components run's CPU goes, thread by thread: 216³ (density 0.2) with 1 and 2 threads
 * alternating in one fresh pool after the bench's warm-up (20 small runs, 3 of the job, per count),
 * each thread's CPU read from /proc/self/task/TID/schedstat (nanoseconds) around every run. Prints
 * per count the medians of the wall time, the main thread, the kernel threads and every other
 * thread (V8's helpers: collections, compilation; the TypeScript loader's), and the others' sum.
 * Run it with KERNEL_THREAD_FILE set to compare a compiled kernel thread with the source entry.
 *
 *   node --expose-gc --import tsx bench/lattice/components-thread-cpu.ts [rounds] [side]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { collectGarbage, median, round } from './measure.ts';

const rounds = Number(process.argv[2] ?? 11);
const side = Number(process.argv[3] ?? 216);
const spec = { shape: [side, side, side], boundary: 'open', obstacles: { density: 0.2, seed: 7 } };
const warm = { shape: [27, 27, 27], boundary: 'open', obstacles: { density: 0.2, seed: 8 } };
const main = String(process.pid);

/** CPU ms of every thread of this process, by thread id. */
function threadCpu(): Map<string, number> {
  const cpu = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      cpu.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return cpu;
}

const pool = new KernelPool({ threads: 2 });
await pool.start();
const kernelThreads = new Set<string>();
const rows: Record<number, Array<{ wall: number; main: number; kernel: number; other: number }>> = { 1: [], 2: [] };
try {
  for (const threads of [1, 2]) {
    for (let i = 0; i < 20; i++) await pool.run('components', warm, {}, { threads });
    for (let i = 0; i < 3; i++) await pool.run('components', spec, {}, { threads });
  }
  collectGarbage();
  for (let turn = 0; turn < rounds; turn++) {
    for (const threads of turn % 2 === 0 ? [1, 2] : [2, 1]) {
      const before = threadCpu();
      const started = performance.now();
      await pool.run('components', spec, {}, { threads });
      const wall = performance.now() - started;
      const row = { wall, main: 0, kernel: 0, other: 0 };
      for (const [tid, ms] of threadCpu()) {
        const used = ms - (before.get(tid) ?? 0);
        // A kernel thread is one that has labelled (ms of CPU in one run); helpers use far less.
        if (used > 3 && tid !== main) kernelThreads.add(tid);
        if (tid === main) row.main += used;
        else if (kernelThreads.has(tid)) row.kernel += used;
        else row.other += used;
      }
      rows[threads]!.push(row);
    }
  }
} finally {
  await pool.close();
}
const summary = (threads: number) => {
  const list = rows[threads]!;
  const of = (key: 'wall' | 'main' | 'kernel' | 'other'): number => round(median(list.map((row) => row[key])), 3);
  return { wall_ms: of('wall'), main_cpu_ms: of('main'), kernel_threads_cpu_ms: of('kernel'), other_threads_cpu_ms: of('other'), other_threads_cpu_ms_sum: round(list.reduce((sum, row) => sum + row.other, 0), 3) };
};
console.log(JSON.stringify({ lattice: `${side}³ density 0.2`, rounds, kernel_thread: process.env['KERNEL_THREAD_FILE'] || 'source entry', load_average: round(loadavg()[0]!, 3), one_thread: summary(1), two_threads: summary(2) }));
