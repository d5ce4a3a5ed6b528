/**
 * A focused measurement of the shortest-path search (the bidirectional BFS, dive skipped) on the
 * hard lattices of issue 14: near the percolation threshold, corner to corner, no Manhattan path.
 * In-process, one pool; prints one JSON line per case and thread count: wall and CPU (every thread,
 * and the busiest thread: the kernel thread of a one-thread search), the load average around it.
 *
 * Usage: node --import tsx bench/lattice/bfs-focus.ts [2d|3d|big|huge|all] [repeats] [threads,...]
 */
import { loadavg } from 'node:os';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { busiestThreadMs, threadCpuMs } from '../support/thread-cpu.ts';
import { round } from './measure.ts';

interface FocusCase {
  name: string;
  spec: { shape: number[]; obstacles: { density: number; seed: number } };
  start: number[];
  end: number[];
}

const corner = (name: string, shape: number[], density: number, seed: number): FocusCase => ({
  name,
  spec: { shape, obstacles: { density, seed } },
  start: shape.map(() => 0),
  end: shape.map((side) => side - 1),
});

/** Seeds chosen so the corners are connected but no Manhattan-length path joins them. */
const CASES: Record<string, FocusCase> = {
  '2d': corner('2-D 2000x2000 density 0.38', [2000, 2000], 0.38, 1),
  '3d': corner('3-D 160^3 density 0.64', [160, 160, 160], 0.64, 39),
  big: corner('3-D 256^3 density 0.5', [256, 256, 256], 0.5, 1),
  huge: corner('3-D 1024^3 density 0.2', [1024, 1024, 1024], 0.2, 7),
};

const which = process.argv[2] ?? 'all';
const repeats = Number(process.argv[3] ?? 3);
const threadCounts = (process.argv[4] ?? '1,2').split(',').map(Number);
const pool = new KernelPool({ threads: Math.max(...threadCounts), memoryLimitBytes: 2 ** 31 });
await pool.start();
try {
  const names = which === 'all' ? ['2d', '3d', 'big'] : [which];
  for (const name of names) {
    const focus = CASES[name]!;
    for (const threads of threadCounts) {
      const runs: { run_ms: number; build_ms: number; wall_ms: number; cpu_ms: number; thread_cpu_ms: number }[] = [];
      const loadBefore = loadavg().map((x) => round(x, 1));
      let last: Record<string, unknown> = {};
      for (let i = 0; i < repeats; i++) {
        const cpuStarted = process.cpuUsage();
        const threadsBefore = threadCpuMs();
        const { result, stats } = await pool.runDetailed('shortest_path', focus.spec, { start: focus.start, end: focus.end }, { strategy: 'bfs', threads });
        const cpu = process.cpuUsage(cpuStarted);
        // CPU of every thread of this process: what the search costs whatever else the machine runs.
        const thread_cpu_ms = busiestThreadMs(threadsBefore, threadCpuMs());
        runs.push({ run_ms: stats.run_ms, build_ms: stats.build_ms, wall_ms: stats.wall_ms, cpu_ms: (cpu.user + cpu.system) / 1000, thread_cpu_ms });
        last = { length: result.length, visited: result.visited, memory_bytes: result.memory_bytes, bits_per_cell: round((result.memory_bytes * 8) / stats.cells), threads: stats.threads };
      }
      const best = runs.reduce((a, b) => (a.wall_ms <= b.wall_ms ? a : b));
      const visited = last['visited'] as number;
      console.log(JSON.stringify({
        case: focus.name,
        ...last,
        best_wall_ms: round(best.wall_ms),
        best_run_ms: round(best.run_ms + best.build_ms),
        walls: runs.map((r) => round(r.wall_ms)),
        best_cpu_ms: round(Math.min(...runs.map((r) => r.cpu_ms))),
        best_thread_cpu_ms: round(Math.min(...runs.map((r) => r.thread_cpu_ms))),
        load_before: loadBefore,
        load_after: loadavg().map((x) => round(x, 1)),
        mcells_per_s: round(visited / best.wall_ms / 1000),
      }));
    }
  }
} finally {
  await pool.close();
}
