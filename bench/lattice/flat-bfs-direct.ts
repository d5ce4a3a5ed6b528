/**
 * The one-thread search (flat-bfs.ts) called directly on this thread, no pool, row-major and in
 * bricks (brick-layout.ts) runs interleaved: an A/B of the search alone on a corner-to-corner
 * lattice (dive skipped; `rows-unsorted`: frontiers never sorted) that holds on a loaded machine (CPU time of this process, which is the
 * search's thread), and a target for `--cpu-prof`.
 *
 *   node --import tsx bench/lattice/flat-bfs-direct.ts SIDE DIMENSIONS DENSITY SEED [repeats] [rows,bricks]
 */
import { loadavg } from 'node:os';
import { resolveJob } from '../../shared/lattice/job.ts';
import { flatBfs } from '../../worker/kernels/flat-bfs.ts';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { round } from './measure.ts';

const [side, dimensions, density, seed, repeats] = process.argv.slice(2, 7).map(Number) as [number, number, number, number, number | undefined];
const variants = (process.argv[7] ?? 'rows,bricks').split(',');
const shape = Array.from({ length: dimensions }, () => side);
const { lattice, params } = resolveJob('shortest_path', { shape, obstacles: { density, seed } }, { start: shape.map(() => 0), end: shape.map((s) => s - 1) });
const best: Record<string, number> = {};
for (let i = 0; i < (repeats ?? 1); i++) {
  for (const variant of variants) {
    const control = JobControl.create(1);
    const task = { kind: 'flat_bfs' as const, control: control.buffers, lattice, start: params.start, end: params.end, state: null };
    const load = loadavg()[0]!;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const tuning = { brickMinCells: variant.startsWith('bricks') ? 0 : Infinity, ...(variant.endsWith('unsorted') ? { orderMinCells: Infinity } : {}) };
    const { outcome, bytes } = flatBfs(task, control, tuning);
    const wall = performance.now() - started;
    const spent = process.cpuUsage(cpu);
    const cpu_ms = (spent.user + spent.system) / 1000;
    best[variant] = Math.min(best[variant] ?? Infinity, cpu_ms);
    console.log(JSON.stringify({
      variant, shape, density, seed, length: outcome.length, visited: outcome.visited,
      wall_ms: round(wall), cpu_ms: round(cpu_ms), ns_per_visited: round((cpu_ms * 1e6) / outcome.visited, 1),
      bits_per_cell: round((bytes * 8) / lattice.cells, 3), load: [round(load, 1), round(loadavg()[0]!, 1)],
    }));
  }
}
console.log(JSON.stringify({ best_cpu_ms: best }));
