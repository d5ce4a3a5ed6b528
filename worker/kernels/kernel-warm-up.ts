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

/**
 * The warm-up runs in the order they go, each job's spread evenly over the whole warm-up (run i
 * of n at (i + ½)/n, ties in list order), so the last run is the 2-D path's. Not job after job:
 * V8 optimises a thread's search code for the lattices it has seen, and a 3-D path after thirty
 * 2-D ones deoptimised the 2-D search code, which real 2000² jobs then recompiled run after run
 * (~20 ms of a third core's CPU per function, beside the two kernel threads; docs/performance.md ›
 * The API's spread on the 2-D path: compilations after the warm-up).
 */
export function warmUpOrder(jobs: readonly WarmUpJob[], runs: number): WarmUpJob[] {
  const slots: Array<{ at: number; index: number; job: WarmUpJob }> = [];
  jobs.forEach((job, index) => {
    const count = warmUpCount(job, runs);
    for (let i = 0; i < count; i++) slots.push({ at: (i + 0.5) / count, index, job });
  });
  return slots.sort((a, b) => a.at - b.at || a.index - b.index).map((slot) => slot.job);
}
