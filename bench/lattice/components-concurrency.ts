/**
 * Whether the components labelling slows down when two threads run it at the same moment, and why.
 * No pool: two plain worker threads, each told to run one piece of work; a round runs the work
 * of both halves (a) in one thread, one half after the other, and (b) in two threads at once, one
 * half each. Per thread it reads its own on-CPU and run-queue time (/proc/thread-self/schedstat)
 * and minor page faults (/proc/thread-self/stat), so a slowdown that shows in on-CPU time while
 * both run is the machine (shared core resources, caches, memory), not waiting or page faults.
 * Modes: `label` (the WebAssembly labelling of a slab, as a slab thread runs it), `alu` (a dependent multiply chain: latency-bound),
 * `alu8` (eight independent chains: throughput-bound), `stream` (sums a 64 MiB array: memory).
 *
 *   node --import tsx bench/lattice/components-concurrency.ts [side] [rounds] [modes,...]
 *
 * On a loaded machine run it as `chrt -f 10 node …` (real-time priority, root): the threads then
 * never wait for a core, which is what an idle machine gives.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';

interface Piece {
  mode: string;
  side: number;
  slabs: number;
  slab: number;
  repeat: number;
}
interface Timed {
  wall_ms: number;
  cpu_ms: number;
  wait_ms: number;
  faults: number;
  answer: number;
  /** On-CPU ms of each piece. */
  each: number[];
}

const schedstat = (): [number, number] => {
  const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
  return [run! / 1e6, wait! / 1e6];
};
const minorFaults = (): number => {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
};

if (!isMainThread) {
  const { resolveLattice } = await import('../../shared/lattice/resolve.ts');
  const { FinishedClusters } = await import('../../worker/kernels/finished-clusters.ts');
  const { labelSlabRunsWasm } = await import('../../worker/kernels/run-labelling-wasm.ts');
  const { planSlabs } = await import('../../worker/kernels/slabs.ts');
  const lattices = new Map<number, ReturnType<typeof resolveLattice>>();
  const big = new Float64Array(8 * 2 ** 20);
  for (let i = 0; i < big.length; i++) big[i] = i & 7;
  const run = (piece: Piece): number => {
    const n = piece.side;
    if (!lattices.has(n)) lattices.set(n, resolveLattice({ dimensions: 3, size: n, obstacles: { density: 0.2, seed: 7 } }));
    const lattice = lattices.get(n)!;
    const own = planSlabs(lattice, piece.slabs)[piece.slab]!;
    const rowCells = lattice.strides[0]!;
    const cells = own.cells;
    switch (piece.mode) {
      case 'label': {
        const finished = new FinishedClusters();
        const job = {
          lattice,
          lo: own.lo,
          rows: own.rows,
          row0: own.row0,
          faceLabels: new Int32Array(2 * rowCells),
          faceSizes: new Float64Array(2 * rowCells),
          faceFlags: new Uint8Array(2 * rowCells),
          finished,
          tick: () => {},
        };
        return labelSlabRunsWasm(job).faceCount + finished.count;
      }
      case 'alu': {
        let x = 1;
        for (let i = 0; i < cells * 4; i++) x = (x * 1103515245 + 12345) | 0;
        return x;
      }
      case 'alu8': {
        let a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
        for (let i = 0; i < cells / 2; i++) {
          a = (a * 1103515245 + 12345) | 0; b = (b * 1103515245 + 12345) | 0; c = (c * 1103515245 + 12345) | 0; d = (d * 1103515245 + 12345) | 0;
          e = (e * 1103515245 + 12345) | 0; f = (f * 1103515245 + 12345) | 0; g = (g * 1103515245 + 12345) | 0; h = (h * 1103515245 + 12345) | 0;
        }
        return a ^ b ^ c ^ d ^ e ^ f ^ g ^ h;
      }
      case 'stream': {
        let s = 0;
        const passes = Math.max(1, Math.round(cells / 2 ** 21));
        for (let p = 0; p < passes; p++) for (let i = 0; i < big.length; i++) s += big[i]!;
        return s;
      }
      default:
        throw new Error(`unknown mode ${piece.mode}`);
    }
  };
  parentPort!.on('message', (pieces: Piece[]) => {
    const [run0, wait0] = schedstat();
    const faults0 = minorFaults();
    const t0 = performance.now();
    let answer = 0;
    const each: number[] = [];
    for (const piece of pieces) {
      const [before] = schedstat();
      for (let k = 0; k < piece.repeat; k++) answer += run(piece);
      each.push(schedstat()[0] - before);
    }
    const wall = performance.now() - t0;
    const [run1, wait1] = schedstat();
    parentPort!.postMessage({ wall_ms: wall, cpu_ms: run1 - run0, wait_ms: wait1 - wait0, faults: minorFaults() - faults0, answer, each } satisfies Timed);
  });
} else {
  const side = Number(process.argv[2] ?? 216);
  const rounds = Number(process.argv[3] ?? 5);
  const modes = (process.argv[4] ?? 'label,alu,alu8,stream').split(',');
  // Worker threads do not inherit the TypeScript loader: register it, then load this file.
  const entry = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  const threads = [0, 1].map(() => new Worker(entry, { eval: true }));
  const ask = (worker: Worker, pieces: Piece[]): Promise<Timed> =>
    new Promise((resolve, reject) => {
      const fail = (err: Error): void => reject(err);
      worker.once('error', fail);
      worker.once('message', (timed: Timed) => {
        worker.off('error', fail);
        resolve(timed);
      });
      worker.postMessage(pieces);
    });
  const r2 = (x: number): number => Number(x.toFixed(1));
  try {
    for (const mode of modes) {
      const half = (slab: number): Piece => ({ mode, side, slabs: 2, slab, repeat: 1 });
      // Warm-up: both threads, both ways.
      await Promise.all(threads.map((t, i) => ask(t, [half(i), half(1 - i)])));
      for (let round = 0; round < rounds; round++) {
        const load = loadavg()[0]!;
        const order = round % 2 === 0 ? ['one', 'two'] : ['two', 'one'];
        const row: Record<string, unknown> = { mode, side, round, load_average: r2(load) };
        for (const way of order) {
          const t0 = performance.now();
          if (way === 'one') {
            const one = await ask(threads[0]!, [half(0), half(1)]);
            row['one'] = { wall_ms: r2(performance.now() - t0), cpu_ms: r2(one.cpu_ms), each_ms: one.each.map(r2), wait_ms: r2(one.wait_ms), faults: one.faults };
          } else {
            // Odd rounds swap which thread takes which half.
            const two = await Promise.all(threads.map((t, i) => ask(t, [half(round % 2 === 0 ? i : 1 - i)])));
            row['two'] = { wall_ms: r2(performance.now() - t0), slab_of_thread: round % 2 === 0 ? [0, 1] : [1, 0], cpu_ms: two.map((x) => r2(x.cpu_ms)), wait_ms: two.map((x) => r2(x.wait_ms)), faults: two.map((x) => x.faults) };
          }
        }
        const one = row['one'] as { wall_ms: number; cpu_ms: number };
        const two = row['two'] as { wall_ms: number; cpu_ms: number[] };
        row['wall_ratio'] = r2((10 * one.wall_ms) / two.wall_ms) / 10;
        // CPU of the whole in one thread ÷ CPU of the two halves: 1 if running at once costs nothing extra.
        row['cpu_ratio'] = Number((one.cpu_ms / (two.cpu_ms[0]! + two.cpu_ms[1]!)).toFixed(2));
        console.log(JSON.stringify(row));
      }
    }
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
