/**
 * CPU and minor page faults per run of the kernels that keep their WebAssembly memory between runs
 * (worker/kernels/kept-wasm-memory.ts): one slab's run labelling and the one-thread shortest-path
 * search, each run 12 times in one thread without the pool, the first two left out. Given another
 * checkout's directory it measures that checkout's kernels instead, for before/after in one sitting.
 *
 *   node --import tsx bench/lattice/kept-memory-ab.ts [CHECKOUT_DIR]
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { measureCpuAndFaults } from '../support/in-process-runs.ts';

type Fn = (...args: unknown[]) => unknown;
type Module = Record<string, Fn>;
const root = pathToFileURL(resolve(process.argv[2] ?? '.')).href;
const load = async (path: string): Promise<Module> => (await import(`${root}/${path}`)) as Module;
const resolveLattice = (await load('shared/lattice/resolve.ts'))['resolveLattice']!;
const resolveJob = (await load('shared/lattice/job.ts'))['resolveJob']!;
const planSlabs = (await load('worker/kernels/slabs.ts'))['planSlabs']!;
const labelSlabRunsWasm = (await load('worker/kernels/run-labelling-wasm.ts'))['labelSlabRunsWasm']!;
const flatBfs = (await load('worker/kernels/flat-bfs.ts'))['flatBfs']!;
const { FinishedClusters } = (await import(`${root}/worker/kernels/finished-clusters.ts`)) as { FinishedClusters: new () => object };
const { JobControl } = (await import(`${root}/worker/kernels/job-control.ts`)) as { JobControl: { create(n: number): { buffers: unknown } } };

for (const [side, dims] of [[200, 3], [1000, 2]] as const) {
  for (const density of [0.2, 0.69]) {
    const lattice = resolveLattice({ dimensions: dims, size: side, obstacles: { density, seed: 7 } }) as { strides: number[] };
    const own = (planSlabs(lattice, 1) as { lo: number; rows: number; row0: number }[])[0]!;
    const rowCells = lattice.strides[0]!;
    const result = measureCpuAndFaults(12, () => {
      const job = { lattice, lo: own.lo, rows: own.rows, row0: own.row0, faceLabels: new Int32Array(2 * rowCells), faceSizes: new Float64Array(2 * rowCells), faceFlags: new Uint8Array(2 * rowCells), finished: new FinishedClusters(), tick: () => {} };
      labelSlabRunsWasm(job);
    });
    console.log(JSON.stringify({ kernel: 'run labelling', side, dims, density, ...result, load: loadavg()[0] }));
  }
}

for (const { shape, density, seed } of [
  { shape: [2000, 2000], density: 0.38, seed: 1 },
  { shape: [160, 160, 160], density: 0.64, seed: 39 },
  { shape: [4000, 4000], density: 0.3, seed: 1 },
]) {
  const { lattice, params } = resolveJob('shortest_path', { shape, obstacles: { density, seed } }, { start: shape.map(() => 0), end: shape.map((s) => s - 1) }) as {
    lattice: unknown;
    params: { start: number; end: number };
  };
  const result = measureCpuAndFaults(12, () => {
    const control = JobControl.create(1);
    flatBfs({ kind: 'flat_bfs', control: control.buffers, lattice, start: params.start, end: params.end, state: null }, control);
  });
  console.log(JSON.stringify({ kernel: 'one-thread search', shape: shape.join('x'), density, ...result, load: loadavg()[0] }));
}
