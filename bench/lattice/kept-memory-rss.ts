/**
 * What a two-thread kernel pool holds at rest after 10^7-cell jobs (216³, density 0.2): the
 * process's VmRSS once started and warmed on small jobs, then after each thread ran a one-thread
 * diffusion, a two-thread one, a one-thread components and a one-thread search of that lattice
 * (the kept memory of worker/kernels/kept-wasm-memory.ts and the pool's other keepers), the heap
 * collected and a second's rest. Given another checkout's directory it loads that checkout's
 * pool instead, for before/after in one sitting. One JSON line.
 *
 *   node --expose-gc --import tsx bench/lattice/kept-memory-rss.ts [CHECKOUT_DIR]
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectGarbage, procStatusBytes } from './measure.ts';

interface Pool {
  start(): Promise<void>;
  close(): Promise<void>;
  run(type: string, spec: unknown, params: unknown, options: { threads?: number; strategy?: string }): Promise<unknown>;
}

const root = pathToFileURL(resolve(process.argv[2] ?? '.')).href;
const { KernelPool } = (await import(`${root}/worker/kernels/kernel-pool.ts`)) as { KernelPool: new (options: { threads: number }) => Pool };
const pool = new KernelPool({ threads: 2 });
const side = 216;
const spec = { dimensions: 3, size: side, obstacles: { density: 0.2, seed: 7 } };
const small = { dimensions: 3, size: 27, obstacles: { density: 0.2, seed: 8 } };
const heat = (s: number) => ({ steps: 10, alpha: 0.15, initial: [{ cell: [s >> 1, s >> 1, s >> 1], value: 1000 }] });
const corners = (s: number) => ({ start: [0, 0, 0], end: [s - 1, s - 1, s - 1] });
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

async function rest(): Promise<number> {
  collectGarbage();
  await sleep(1000);
  collectGarbage();
  return procStatusBytes('VmRSS');
}

await pool.start();
try {
  // Warm: both threads compile every module on small lattices.
  for (let i = 0; i < 10; i++) {
    await Promise.all([1, 2].map(() => pool.run('diffusion', small, heat(27), { threads: 1 })));
    await Promise.all([1, 2].map(() => pool.run('components', small, {}, { threads: 1 })));
    await Promise.all([1, 2].map(() => pool.run('shortest_path', small, corners(27), { threads: 1, strategy: 'bfs' })));
  }
  const warm = await rest();
  // Two one-thread jobs at once: each thread runs one, so both keep what it leaves.
  const both = (type: string, params: unknown, options: { threads: number; strategy?: string }) => Promise.all([1, 2].map(() => pool.run(type, spec, params, options)));
  for (let i = 0; i < 3; i++) {
    await pool.run('diffusion', spec, heat(side), { threads: 2 });
    await both('components', {}, { threads: 1 });
    await both('shortest_path', corners(side), { threads: 1, strategy: 'bfs' });
    await both('diffusion', heat(side), { threads: 1 });
  }
  const after = await rest();
  console.log(JSON.stringify({ checkout: process.argv[2] ?? '.', warm_rss_mib: mib(warm), rest_rss_mib: mib(after), kept_mib: mib(after - warm), load: loadavg()[0] }));
} finally {
  await pool.close();
}
