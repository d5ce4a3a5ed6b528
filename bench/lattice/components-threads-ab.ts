/**
 * Components on 216³ (density 0.2) with 1 and 2 threads, before and after, in one process: a pool
 * of this checkout and a pool of another (BASE_DIR), each of two threads, run by turns in the same
 * rounds (the order rotated every round), so both see the same minutes of a shared machine. Per
 * checkout: median wall of 1 and 2 threads, their ratio, and the ratio per round (1-thread wall ÷
 * 2-thread wall of the same round).
 *
 *   node --import tsx bench/lattice/components-threads-ab.ts BASE_DIR [rounds] [side] [density]
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Pool {
  start(): Promise<void>;
  close(): Promise<void>;
  run(type: string, spec: unknown, params: unknown, options?: object): Promise<unknown>;
}

const baseDir = process.argv[2];
if (baseDir === undefined) throw new Error('usage: components-threads-ab.ts BASE_DIR [rounds] [side] [density]');
const rounds = Number(process.argv[3] ?? 10);
const side = Number(process.argv[4] ?? 216);
const density = Number(process.argv[5] ?? 0.2);

const load = async (dir: string): Promise<Pool> => {
  const { KernelPool } = (await import(`${pathToFileURL(resolve(dir)).href}/worker/kernels/kernel-pool.ts`)) as { KernelPool: new (options: object) => Pool };
  return new KernelPool({ threads: 2 });
};
const pools: Record<string, Pool> = { base: await load(baseDir), new: await load('.') };
const spec = { shape: [side, side, side], boundary: 'open', obstacles: { density, seed: 7 } };
const warm = { shape: [27, 27, 27], boundary: 'open', obstacles: { density, seed: 8 } };
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const r2 = (x: number): number => Number(x.toFixed(2));

const runs = Object.keys(pools).flatMap((name) => [1, 2].map((threads) => ({ name, threads })));
const walls: Record<string, number[]> = {};
const loads: number[] = [];
try {
  for (const pool of Object.values(pools)) await pool.start();
  for (const { name, threads } of runs) {
    for (let i = 0; i < 20; i++) await pools[name]!.run('components', warm, {}, { threads });
    for (let i = 0; i < 3; i++) await pools[name]!.run('components', spec, {}, { threads });
  }
  for (let round = 0; round < rounds; round++) {
    loads.push(loadavg()[0]!);
    for (let k = 0; k < runs.length; k++) {
      const { name, threads } = runs[(k + round) % runs.length]!;
      const started = performance.now();
      await pools[name]!.run('components', spec, {}, { threads });
      (walls[`${name}${threads}`] ??= []).push(performance.now() - started);
    }
  }
  const summary = (name: string) => {
    const one = walls[`${name}1`]!;
    const two = walls[`${name}2`]!;
    const perRound = one.map((wall, i) => wall / two[i]!);
    return { one_ms: r2(median(one)), two_ms: r2(median(two)), ratio: r2(median(one) / median(two)), round_ratios: perRound.map(r2), min_round_ratio: r2(Math.min(...perRound)), twos: two.map(r2) };
  };
  console.log(JSON.stringify({ lattice: `3-D side ${side}, density ${density}`, rounds, load_average: [r2(Math.min(...loads)), r2(Math.max(...loads))], base: summary('base'), new: summary('new') }));
} finally {
  for (const pool of Object.values(pools)) await pool.close();
}
