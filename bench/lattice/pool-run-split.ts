/**
 * Where a kernel pool run's time goes in process, on the two jobs through the API nearest their
 * goals (`npm run bench:lattice`: diffusion 2-D 1024² periodic, 40 steps, and the hard shortest
 * path on 3-D 159³ at density 0.6), beside diffusion on 159³ and the hard 2-D path: a 2-thread
 * pool as the worker runs it (`threads: 'auto'`), `runs` runs each, the first two left out.
 * Per run: the pool's wall time, the threads' own build and step time (max over slabs), the
 * process's CPU (all threads) and its minor page faults (fresh pages, ~3 ms of CPU per MiB on the
 * 2-core VM). Wall minus the threads' time is the pool's own share: resolving the job, allocating
 * buffers, handing tasks to threads and back. Given another checkout's directory it runs that
 * checkout's pool instead, for before/after in one sitting.
 *
 *   node --import tsx bench/lattice/pool-run-split.ts [CHECKOUT_DIR] [runs]
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { blockedMask, HARD_DENSITY_2D, HARD_DENSITY_3D, hardPath, latticeCase } from './lattices.ts';

interface Stats {
  build_ms: number;
  run_ms: number;
  wall_ms: number;
}
interface Pool {
  start(): Promise<void>;
  close(): Promise<void>;
  runDetailed(type: string, spec: unknown, params: unknown, options?: object): Promise<{ result: Record<string, unknown>; stats: Stats }>;
}

const root = pathToFileURL(resolve(process.argv[2] ?? '.')).href;
const runs = Number(process.argv[3] ?? 12);
const { KernelPool } = (await import(`${root}/worker/kernels/kernel-pool.ts`)) as { KernelPool: new (options: object) => Pool };

const at = (shape: number[], f: number): number[] => shape.map((side) => Math.floor(side * f));
const plane = [1024, 1024];
const cube = [159, 159, 159];
const path = (shape: number[], density: number) => {
  const c = hardPath(shape, density, blockedMask(latticeCase(shape, density)));
  return { name: `shortest_path ${c.name}`, type: 'shortest_path', spec: c.spec, params: { start: c.start, end: c.end } };
};
const cases = [
  {
    name: 'diffusion 2-D 1024² periodic',
    type: 'diffusion',
    spec: latticeCase(plane, 0.3, 'periodic').spec,
    params: { steps: 40, alpha: 0.2, initial: [{ cell: at(plane, 0.5), value: 1000 }], sources: [{ cell: [0, 0], value: 5 }] },
  },
  path(cube, HARD_DENSITY_3D),
  {
    name: 'diffusion 3-D 159³',
    type: 'diffusion',
    spec: latticeCase(cube, 0.2).spec,
    params: { steps: 40, alpha: 0.15, initial: [{ cell: at(cube, 0.5), value: 1000 }], sources: [{ cell: at(cube, 0.1), value: 1 }] },
  },
  path([2000, 2000], HARD_DENSITY_2D),
];

const median = (values: number[]): number => Number([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!.toFixed(2));
const pool = new KernelPool({ threads: 2 });
await pool.start();
try {
  for (const c of cases) {
    const rows: Array<{ wall: number; threads: number; cpu: number; faults: number }> = [];
    let answer: unknown;
    for (let rep = 0; rep < runs; rep++) {
      const cpu = process.cpuUsage();
      const faults = process.resourceUsage().minorPageFault;
      const { result, stats } = await pool.runDetailed(c.type, c.spec, c.params);
      const used = process.cpuUsage(cpu);
      answer = result['length'] ?? result['max'];
      if (rep >= 2) {
        rows.push({ wall: stats.wall_ms, threads: stats.build_ms + stats.run_ms, cpu: (used.user + used.system) / 1000, faults: process.resourceUsage().minorPageFault - faults });
      }
    }
    console.log(
      JSON.stringify({
        checkout: process.argv[2] ?? '.',
        case: c.name,
        answer,
        best_wall_ms: Number(Math.min(...rows.map((r) => r.wall)).toFixed(2)),
        median_wall_ms: median(rows.map((r) => r.wall)),
        median_thread_ms: median(rows.map((r) => r.threads)),
        median_outside_ms: median(rows.map((r) => r.wall - r.threads)),
        median_cpu_ms: median(rows.map((r) => r.cpu)),
        median_faults: median(rows.map((r) => r.faults)),
        load: loadavg()[0],
      }),
    );
  }
} finally {
  await pool.close();
}
