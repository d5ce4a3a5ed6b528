/**
 * The two-thread search (two-sided-bfs.ts), claiming by compare-exchange only (`exchange`) and
 * with plain claims while the sides are far apart (`plain`), against the one-thread search
 * (flat-bfs.ts), called directly in two worker threads of this process (no pool, no dive), in
 * alternating order. Each thread reads its own CPU time (/proc/thread-self/schedstat) at each
 * phase of its side, so the figures hold on a loaded machine: `max_side_cpu_ms`, the busier
 * side's CPU, is the two-thread run's wall time on idle cores less the waits, and `cpu_ratio`,
 * one thread's CPU over it, the speed-up two idle cores would give.
 *
 *   node --import tsx bench/lattice/two-sided-direct.ts [2d|2d2000|3d216|3d159] [ROUNDS]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { resolveJob } from '../../shared/lattice/job.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { flatBfs } from '../../worker/kernels/flat-bfs.ts';
import { JobControl, type JobControlBuffers } from '../../worker/kernels/job-control.ts';
import { TWO_SIDED_TILE_SHIFT, twoSidedBfsThread, twoSidedMemory, type TileShift, type TwoSidedPhase } from '../../worker/kernels/two-sided-bfs.ts';
import type { SharedWasmMemory } from '../../worker/kernels/wasm-runtime.ts';
import { HARD_DENSITY_2D, HARD_DENSITY_3D, blockedMask, hardPath, latticeCase } from './lattices.ts';
import { round } from './measure.ts';

/** This thread's CPU time in ms. */
function threadCpuMs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
}

interface Job {
  kind: 'flat' | 'two';
  tileShift?: TileShift;
  lattice: Lattice;
  start: number;
  end: number;
  side: 0 | 1;
  control: JobControlBuffers;
  memory: SharedWasmMemory | null;
}

interface Done {
  cpu: Record<string, number>;
  total: number;
  length: number | null;
  visited: number;
}

function work(job: Job): Done {
  const control = JobControl.attach(job.control);
  const cpu: Record<string, number> = {};
  const started = threadCpuMs();
  let last = started;
  if (job.kind === 'flat') {
    const { outcome } = flatBfs({ kind: 'flat_bfs', control: job.control, lattice: job.lattice, start: job.start, end: job.end, state: null }, control);
    return { cpu, total: threadCpuMs() - started, length: outcome.length, visited: outcome.visited };
  }
  const mark = (phase: TwoSidedPhase): void => {
    const now = threadCpuMs();
    cpu[phase] = round(now - last, 1);
    last = now;
  };
  const task = { lattice: job.lattice, start: job.start, end: job.end, side: job.side, memory: job.memory!, tileShift: job.tileShift ?? null };
  const { outcome } = twoSidedBfsThread(task, control, mark);
  return { cpu, total: threadCpuMs() - started, length: outcome?.length ?? null, visited: outcome?.visited ?? 0 };
}

if (!isMainThread) {
  parentPort!.on('message', (job: Job) => parentPort!.postMessage(work(job)));
} else {
  const name = process.argv[2] ?? '2d';
  const rounds = Number(process.argv[3] ?? 5);
  const shapes: Record<string, [number[], number]> = {
    '2d': [[3200, 3200], HARD_DENSITY_2D],
    '2d2000': [[2000, 2000], HARD_DENSITY_2D],
    '3d216': [[216, 216, 216], HARD_DENSITY_3D],
    '3d159': [[159, 159, 159], HARD_DENSITY_3D],
  };
  const [shape, density] = shapes[name]!;
  const path = hardPath(shape, density, blockedMask(latticeCase(shape, density)));
  const { lattice, params } = resolveJob('shortest_path', path.spec, { start: path.start, end: path.end });
  const code = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  const threads = [0, 1].map(() => new Worker(code, { eval: true }));
  const send = (worker: Worker, job: Job): Promise<Done> =>
    new Promise((resolve, reject) => {
      const failed = (error: Error): void => reject(error);
      worker.once('error', failed);
      worker.once('message', (done: Done) => {
        worker.off('error', failed);
        resolve(done);
      });
      worker.postMessage(job);
    });
  let kept: SharedWasmMemory | null = null;
  const base = { lattice, start: params.start, end: params.end, side: 0 as const, memory: null };
  const one = async () => {
    const load = loadavg()[0]!;
    const done = await send(threads[0]!, { ...base, kind: 'flat', control: JobControl.create(1).buffers });
    return { load, cpu: done.total, max: done.total, length: done.length, side0: null, side1: null };
  };
  const two = async (tileShift: TileShift) => {
    const load = loadavg()[0]!;
    const memory = twoSidedMemory(lattice, undefined, kept, tileShift);
    kept = memory;
    const control = JobControl.create(2).buffers;
    const sides = await Promise.all(([0, 1] as const).map((side) => send(threads[side]!, { ...base, kind: 'two', side, memory, control, tileShift })));
    const [s0, s1] = sides as [Done, Done];
    return { load, cpu: s0.total + s1.total, max: Math.max(s0.total, s1.total), length: s0.length, side0: s0.cpu as Record<string, number> | null, side1: s1.cpu as Record<string, number> | null };
  };
  // Variants: the one-thread search, two sides claiming by compare-exchange only, two sides claiming plainly while far apart.
  const variants = { one: () => one(), exchange: () => two(null), plain: () => two(TWO_SIDED_TILE_SHIFT) };
  const names = Object.keys(variants) as (keyof typeof variants)[];
  for (let w = 0; w < 2; w++) for (const v of names) await variants[v]();
  const seen: Record<string, { cpu: number[]; max: number[] }> = {};
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    const row: Record<string, unknown> = { lattice: name, round: r };
    let oneCpu = 0;
    for (const v of order) {
      const result = await variants[v]();
      seen[v] ??= { cpu: [], max: [] };
      seen[v].cpu.push(result.cpu);
      seen[v].max.push(result.max);
      row[v] = { load: round(result.load, 1), cpu_ms: round(result.cpu, 1), ...(result.side0 === null ? {} : { max_side_cpu_ms: round(result.max, 1), side0: result.side0, side1: result.side1 }), length: result.length };
      if (v === 'one') oneCpu = result.cpu;
    }
    for (const v of ['exchange', 'plain'] as const) {
      const entry = row[v] as { max_side_cpu_ms: number; cpu_ms: number };
      row[`${v}_cpu_ratio`] = round(oneCpu / entry.max_side_cpu_ms, 2);
    }
    console.log(JSON.stringify(row));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const oneMedian = median(seen.one!.cpu);
  console.log(
    JSON.stringify({
      lattice: name,
      rounds,
      load: round(loadavg()[0]!, 1),
      median_cpu_ms: Object.fromEntries(names.map((v) => [v, round(median(seen[v]!.cpu), 1)])),
      median_max_side_cpu_ms: Object.fromEntries(names.map((v) => [v, round(median(seen[v]!.max), 1)])),
      // One thread's CPU over the busier side's: the speed-up on two idle cores, less waits.
      cpu_ratio: { exchange: round(oneMedian / median(seen.exchange!.max), 2), plain: round(oneMedian / median(seen.plain!.max), 2) },
      extra_cpu: { exchange: round(median(seen.exchange!.cpu) / oneMedian, 2), plain: round(median(seen.plain!.cpu) / oneMedian, 2) },
    }),
  );
  await Promise.all(threads.map((t) => t.terminate()));
}
