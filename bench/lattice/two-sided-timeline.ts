/**
 * A per-thread timeline of the two-thread search (two-sided-bfs.ts) beside the one-thread search
 * (flat-bfs.ts), called directly in two worker threads of this process (no pool, no dive), in
 * alternating order: for each phase of each side, when it ended on the wall clock (ms after the
 * main thread posted the task) and the thread's own CPU in it (/proc/thread-self/schedstat).
 * Each round also prints the cells visited, CPU ns a visited cell and the process's minor page faults in the run.
 * `start` is the thread receiving its task; `posted` is the main thread having the answer. Given
 * another checkout's directory it runs that checkout's kernels instead, for A/B in one sitting.
 *
 *   node --import tsx bench/lattice/two-sided-timeline.ts [2d|2d1000|2d1400|2d2000|2d2800|3d216] [ROUNDS] [CHECKOUT_DIR]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resolveJob } from '../../shared/lattice/job.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import type * as FlatBfs from '../../worker/kernels/flat-bfs.ts';
import type * as JobControlModule from '../../worker/kernels/job-control.ts';
import type * as TwoSidedBfs from '../../worker/kernels/two-sided-bfs.ts';
import { HARD_DENSITY_2D, HARD_DENSITY_3D, blockedMask, hardPath, latticeCase } from './lattices.ts';
import { round } from './measure.ts';

const cpuMs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
const wall = (): number => performance.timeOrigin + performance.now();

interface Job {
  kind: 'one' | 'two';
  lattice: Lattice;
  start: number;
  end: number;
  side: 0 | 1;
  control: unknown;
  memory: unknown;
  posted: number;
}
type Stamp = [wall: number, cpu: number];
interface Done {
  stamps: Record<string, Stamp>;
  length: number | null;
  visited: number;
}

async function worker(root: string): Promise<void> {
  const flat = (await import(`${root}/worker/kernels/flat-bfs.ts`)) as typeof FlatBfs;
  const rows = (await import(`${root}/worker/kernels/two-sided-bfs.ts`)) as typeof TwoSidedBfs;
  const { JobControl } = (await import(`${root}/worker/kernels/job-control.ts`)) as typeof JobControlModule;
  parentPort!.on('message', (job: Job) => {
    const stamps: Record<string, Stamp> = {};
    let cpu0 = cpuMs();
    const mark = (phase: string): void => void (stamps[phase] = [round(wall() - job.posted, 2), round(cpuMs() - cpu0, 2)]);
    mark('start');
    cpu0 = cpuMs();
    const control = JobControl.attach(job.control as never);
    let done: Done;
    if (job.kind === 'one') {
      const { outcome } = flat.flatBfs({ kind: 'flat_bfs', control: job.control as never, lattice: job.lattice, start: job.start, end: job.end, state: null }, control);
      mark('answered');
      done = { stamps, length: outcome.length, visited: outcome.visited };
    } else {
      const task = { lattice: job.lattice, start: job.start, end: job.end, side: job.side, memory: job.memory as never };
      const { outcome } = rows.twoSidedBfsThread(task, control, mark);
      done = { stamps, length: outcome?.length ?? null, visited: outcome?.visited ?? 0 };
    }
    parentPort!.postMessage(done);
  });
  parentPort!.postMessage('ready');
}

if (!isMainThread) {
  await worker(workerData as string);
} else {
  const name = process.argv[2] ?? '2d';
  const rounds = Number(process.argv[3] ?? 5);
  const root = pathToFileURL(resolve(process.argv[4] ?? '.')).href;
  const rows = (await import(`${root}/worker/kernels/two-sided-bfs.ts`)) as typeof TwoSidedBfs;
  const { JobControl } = (await import(`${root}/worker/kernels/job-control.ts`)) as typeof JobControlModule;
  const shapes: Record<string, [number[], number]> = {
    '2d': [[3200, 3200], HARD_DENSITY_2D],
    '2d2000': [[2000, 2000], HARD_DENSITY_2D],
    '2d1000': [[1000, 1000], HARD_DENSITY_2D],
    '2d1400': [[1400, 1400], HARD_DENSITY_2D],
    '2d2800': [[2800, 2800], HARD_DENSITY_2D],
    '3d216': [[216, 216, 216], HARD_DENSITY_3D],
  };
  const [shape, density] = shapes[name]!;
  const path = hardPath(shape, density, blockedMask(latticeCase(shape, density)));
  const { lattice, params } = resolveJob('shortest_path', path.spec, { start: path.start, end: path.end });
  const code = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  const threads = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<Worker>((ready) => {
          const w = new Worker(code, { eval: true, workerData: root });
          w.once('message', () => ready(w));
        }),
    ),
  );
  const send = (w: Worker, job: Job): Promise<Done & { received: number }> =>
    new Promise((ok, fail) => {
      w.once('error', fail);
      w.once('message', (done: Done) => {
        w.off('error', fail);
        ok({ ...done, received: round(wall() - job.posted, 2) });
      });
      w.postMessage(job);
    });
  let kept: unknown = null;
  const base = { lattice, start: params.start, end: params.end, side: 0 as const, memory: null };
  const one = async () => {
    const done = await send(threads[0]!, { ...base, kind: 'one', control: JobControl.create(1).buffers, posted: wall() });
    return { wall: done.received, cpu: done.stamps['answered']![1], max: done.stamps['answered']![1], length: done.length, visited: done.visited, sides: [done.stamps] };
  };
  const two = async () => {
    const memory = rows.twoSidedMemory(lattice, undefined, kept as never);
    kept = memory;
    const control = JobControl.create(2).buffers;
    const posted = wall();
    const sides = await Promise.all(([0, 1] as const).map((side) => send(threads[side]!, { ...base, kind: 'two', side, memory, control, posted })));
    // A side's stamps carry its CPU since the task began: the last one is the side's total.
    const cpu = (s: Done): number => Math.max(...Object.values(s.stamps).map(([, c]) => c));
    const [s0, s1] = sides as [Done & { received: number }, Done & { received: number }];
    return { wall: Math.max(s0.received, s1.received), cpu: cpu(s0) + cpu(s1), max: Math.max(cpu(s0), cpu(s1)), length: s0.length, visited: s0.visited + s1.visited, sides: [s0.stamps, s1.stamps] };
  };
  for (let w = 0; w < 3; w++) {
    await one();
    await two();
  }
  const seen: Record<string, number[]> = { one_wall: [], two_wall: [], one_cpu: [], two_max_cpu: [], two_cpu: [] };
  for (let r = 0; r < rounds; r++) {
    const load = round(loadavg()[0]!, 2);
    const order = r % 2 === 0 ? [one, two] : [two, one];
    for (const run of order) {
      const faults0 = process.resourceUsage().minorPageFault;
      const result = await run();
      const minorFaults = process.resourceUsage().minorPageFault - faults0;
      const kind = run === one ? 'one' : 'two';
      seen[`${kind}_wall`]!.push(result.wall);
      if (kind === 'one') seen['one_cpu']!.push(result.cpu);
      else {
        seen['two_max_cpu']!.push(result.max);
        seen['two_cpu']!.push(result.cpu);
      }
      console.log(JSON.stringify({ round: r, load, kind, wall_ms: result.wall, cpu_ms: round(result.cpu, 1), length: result.length, visited: result.visited, ns_per_visited: round((result.cpu * 1e6) / result.visited, 1), minor_faults: minorFaults, sides: result.sides }));
    }
  }
  const median = (xs: number[]): number => round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!, 2);
  const m = Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, median(v)]));
  console.log(JSON.stringify({ lattice: name, checkout: process.argv[4] ?? '.', rounds, load: round(loadavg()[0]!, 2), medians: m, wall_ratio: round(m['one_wall']! / m['two_wall']!, 2), cpu_ratio: round(m['one_cpu']! / m['two_max_cpu']!, 2) }));
  await Promise.all(threads.map((t) => t.terminate()));
}
