/** One timed shortest_path run of a pool (`strategy: 'bfs'`, so the dive does not answer), for the A/B benches. */
import { loadavg } from 'node:os';
import type { KernelPool } from '../../worker/kernels/kernel-pool.ts';

/** The figures of a shortest_path result the benches print. */
export interface PathFigures {
  length: number | null;
  visited: number;
  memory_bytes: number;
}

/** Runs once in `threads` threads: the outcome, the load average before, wall and process CPU ms. */
export async function timedPathRun(pool: KernelPool, spec: unknown, params: { start: number[]; end: number[] }, threads: number) {
  const load = loadavg()[0]!;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const outcome = await pool.runDetailed('shortest_path', spec, params, { threads, strategy: 'bfs' });
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    outcome,
    result: outcome.result as unknown as PathFigures,
    load_average: Number(load.toFixed(2)),
    wall_ms: Math.round(wall),
    cpu_ms: Math.round((used.user + used.system) / 1000),
  };
}
