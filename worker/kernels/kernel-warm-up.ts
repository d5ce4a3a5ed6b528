/**
 * Small jobs a fresh pool runs before it takes real ones. A kernel thread's JavaScript (the
 * search's coordination, materialising, the walk back, the labelling's and stencil's set-up) is
 * optimised by V8 only after it has run a while: a fresh pool answered the hard 2-D 2000² path in
 * 29–38 ms on its first run and ~8.5 ms after a dozen, and thirty runs on 512² before it made its
 * first 2000² run 9 ms (docs/performance.md › A fourth machine, 2026-12-07 morning). The code is
 * the same whatever the lattice's size, so small lattices warm it for large ones, in ~0.1–0.2 s.
 */
import type { KernelType } from '../../shared/lattice/types.ts';

export interface WarmUpJob {
  type: KernelType;
  spec: unknown;
  params: unknown;
  /** This job's share of the runs asked for (the 2-D path, the slowest to settle, takes them all). */
  share: number;
}

/**
 * Hard lattices near the percolation threshold, ends joined but by no path of Manhattan length, so
 * the searches run their full code, not the dive: the 2-D path is 1,170 steps (Manhattan 1,022),
 * the 3-D one 213 (189). Procedural obstacles are a function of seed and cell, so these stay so.
 */
export const WARM_UP_JOBS: readonly WarmUpJob[] = [
  { type: 'shortest_path', spec: { shape: [512, 512], obstacles: { density: 0.37, seed: 6 } }, params: { start: [0, 0], end: [511, 511] }, share: 1 },
  { type: 'shortest_path', spec: { shape: [64, 64, 64], obstacles: { density: 0.6, seed: 1 } }, params: { start: [0, 0, 0], end: [63, 63, 63] }, share: 1 / 3 },
  { type: 'components', spec: { shape: [96, 96, 96], obstacles: { density: 0.2, seed: 11 } }, params: {}, share: 1 / 3 },
  { type: 'diffusion', spec: { shape: [96, 96, 96], obstacles: { density: 0.2, seed: 11 } }, params: { steps: 4, alpha: 0.15, initial: [{ cell: [48, 48, 48], value: 1 }] }, share: 1 / 3 },
];

/** How many times each warm-up job runs for `runs` asked. */
export function warmUpCount(job: WarmUpJob, runs: number): number {
  return runs <= 0 ? 0 : Math.max(1, Math.round(runs * job.share));
}
