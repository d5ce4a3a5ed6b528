/**
 * The two-thread search's obstacles in bricks, per side (two-sided-bricks.ts): the procedural
 * hash straight into nibbles (`materialise`) against the byte plane spread by a JS loop
 * (`materialisePlane`), alternating (A B B A ...), in this thread. Each sample materialises one
 * half `REPS` times; the thread's CPU (/proc/thread-self/schedstat) per half, in ms. The
 * lattice is the bench's hard 3-D one (density 0.6, seed 7; the ends do not change the work).
 * Both routes' words are compared once at the end. Prints one JSON line per sample, then medians.
 *
 *   node --import tsx bench/lattice/two-sided-bricks-materialise.ts [SIDE] [SAMPLES] [REPS]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolveJob } from '../../shared/lattice/job.ts';
import { BrickSearchSide, twoSidedBricksLayout, twoSidedBricksMemory } from '../../worker/kernels/two-sided-bricks.ts';
import { HARD_DENSITY_3D, latticeCase } from './lattices.ts';

const side = Number(process.argv[2] ?? 216);
const samples = Number(process.argv[3] ?? 9);
const reps = Number(process.argv[4] ?? 5);
const shape = [side, side, side];
const { lattice, params } = resolveJob('shortest_path', latticeCase(shape, HARD_DENSITY_3D).spec, { start: [0, 0, 0], end: shape.map((n) => n - 1) });
const bricks = twoSidedBricksLayout(lattice)!;
const sides = {
  fused: new BrickSearchSide(twoSidedBricksMemory(bricks), lattice, bricks, params.start, params.end, 0),
  plane: new BrickSearchSide(twoSidedBricksMemory(bricks), lattice, bricks, params.start, params.end, 0),
};
const run = (route: keyof typeof sides, part: 0 | 1): void => (route === 'fused' ? sides.fused.materialise(part) : sides.plane.materialisePlane(part));
const cpuMs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Warm-up: both routes, both halves.
for (const route of ['fused', 'plane'] as const) for (const part of [0, 1] as const) run(route, part);
const perSide: Record<string, number[]> = { fused: [], plane: [] };
for (let sample = 0; sample < samples; sample++) {
  for (const route of sample % 2 === 0 ? (['fused', 'plane'] as const) : (['plane', 'fused'] as const)) {
    const ms: number[] = [];
    for (const part of [0, 1] as const) {
      const t0 = cpuMs();
      for (let r = 0; r < reps; r++) run(route, part);
      ms.push((cpuMs() - t0) / reps);
    }
    perSide[route]!.push(...ms);
    console.log(JSON.stringify({ side, route, load: Number(loadavg()[0]!.toFixed(1)), cpu_ms_per_side: ms.map((x) => Number(x.toFixed(2))) }));
  }
}
const same = sides.fused.words.every((w, k) => w === sides.plane.words[k]);
console.log(
  JSON.stringify({
    side,
    cells: lattice.cells,
    brick_cells: bricks.cells,
    median_cpu_ms_per_side: { fused: Number(median(perSide.fused!).toFixed(2)), plane: Number(median(perSide.plane!).toFixed(2)) },
    same_words: same,
    load_after: loadavg().map((x) => Number(x.toFixed(2))),
  }),
);
