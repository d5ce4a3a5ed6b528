/**
 * Where the two-thread search's time goes, both sides in this thread (no pool, no second core):
 * obstacles materialised (both halves) and the search stepped alternately, in rows
 * (two-sided-bfs.ts) and in bricks (two-sided-bricks.ts); beside them the one-thread search
 * (flat-bfs.ts, which materialises lazily) in rows and in bricks. CPU ms of this process (its
 * one busy thread), alternating.
 *
 *   node --import tsx bench/lattice/two-sided-bricks-split.ts [SIDE] [ROUNDS]
 */
import { loadavg } from 'node:os';
import { resolveJob } from '../../shared/lattice/job.ts';
import { flatBfs } from '../../worker/kernels/flat-bfs.ts';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { BrickSearchSide, twoSidedBricksLayout, twoSidedBricksMemory } from '../../worker/kernels/two-sided-bricks.ts';
import { SearchSide, twoSidedMemory } from '../../worker/kernels/two-sided-bfs.ts';
import { HARD_DENSITY_3D, blockedMask, hardPath, latticeCase } from './lattices.ts';

const side = Number(process.argv[2] ?? 216);
const rounds = Number(process.argv[3] ?? 5);
const shape = [side, side, side];
const found = hardPath(shape, HARD_DENSITY_3D, blockedMask(latticeCase(shape, HARD_DENSITY_3D)));
const { lattice, params } = resolveJob('shortest_path', found.spec, { start: found.start, end: found.end });
const bricks = twoSidedBricksLayout(lattice)!;
const rowsMemory = twoSidedMemory(lattice);
const bricksMemory = twoSidedBricksMemory(bricks);
const cpu = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
const layouts = ['rows', 'bricks', 'one-rows', 'one-bricks'];
for (let round = 0; round < rounds; round++) {
  for (const layout of round % 2 === 0 ? layouts : [...layouts].reverse()) {
    if (layout.startsWith('one-')) {
      const control = JobControl.create(1);
      const t0 = cpu();
      const { outcome } = flatBfs({ kind: 'flat_bfs', control: control.buffers, lattice, start: params.start, end: params.end, state: null }, control, { brickMinCells: layout === 'one-bricks' ? 0 : Infinity });
      console.log(JSON.stringify({ side, layout, load: Number(loadavg()[0]!.toFixed(1)), total_cpu_ms: Math.round(cpu() - t0), length: outcome.length, visited: outcome.visited }));
      continue;
    }
    new Int32Array((layout === 'rows' ? rowsMemory : bricksMemory).buffer, 0, 16).fill(0);
    const sides =
      layout === 'rows'
        ? [new SearchSide(rowsMemory, lattice, params.start, params.end, 0), new SearchSide(rowsMemory, lattice, params.start, params.end, 1)]
        : [new BrickSearchSide(bricksMemory, lattice, bricks, params.start, params.end, 0), new BrickSearchSide(bricksMemory, lattice, bricks, params.start, params.end, 1)];
    const t0 = cpu();
    sides[0]!.materialise(0);
    sides[1]!.materialise(1);
    sides[0]!.seedBoth();
    const t1 = cpu();
    let s = 0;
    while (!sides[0]!.finished || !sides[1]!.finished) {
      (sides[s]!.finished ? sides[1 - s]! : sides[s]!).step();
      s = 1 - s;
    }
    const t2 = cpu();
    const best = [sides[0]!.best(sides[1]!.layers), sides[1]!.best(sides[0]!.layers)].filter((m) => m !== null).map((m) => m.sum);
    console.log(JSON.stringify({ side, layout, load: Number(loadavg()[0]!.toFixed(1)), materialise_cpu_ms: Math.round(t1 - t0), search_cpu_ms: Math.round(t2 - t1), total_cpu_ms: Math.round(t2 - t0), length: Math.min(...best), visited: sides[0]!.visited + sides[1]!.visited }));
  }
}
