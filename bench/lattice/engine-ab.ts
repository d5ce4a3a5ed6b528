/**
 * This checkout's kernels against another checkout's (e.g. `git archive <commit> | tar -x -C DIR`,
 * with node_modules linked), interleaved in one process on the same lattices as
 * cc-diffusion-measure.ts, beside the same peers: on a machine others load, before/after ratios
 * taken run by run are the figures that hold.
 *
 *   node --import tsx bench/lattice/engine-ab.ts BASE_DIR [components|diffusion|all] [repeats] [side]
 *
 * `side` replaces both cubes' sides (200 for components, 160 for diffusion).
 *
 * Prints one JSON line per case: for `base` and `head`, the best run_ms and CPU ms (every thread
 * of this process) of `repeats` interleaved runs with 1 and 2 threads, and the peer's best.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';

const PEERS = fileURLToPath(new URL('./cc_diffusion_peers.py', import.meta.url));
const baseDir = process.argv[2];
if (baseDir === undefined) throw new Error('usage: engine-ab.ts BASE_DIR [components|diffusion|all] [repeats]');
const which = process.argv[3] ?? 'all';
const repeats = Number(process.argv[4] ?? 5);
const sideArg = process.argv[5] === undefined ? undefined : Number(process.argv[5]);

type Pool = Pick<KernelPool, 'start' | 'close' | 'runDetailed'>;
const { KernelPool: BasePool } = (await import(pathToFileURL(resolve(baseDir, 'worker/kernels/kernel-pool.ts')).href)) as { KernelPool: new (options: { threads: number }) => Pool };
const pools: Record<'base' | 'head', Pool> = { base: new BasePool({ threads: 2 }), head: new KernelPool({ threads: 2 }) };
await Promise.all(Object.values(pools).map((pool) => pool.start()));
console.log(JSON.stringify({ load_average: loadavg().map((x) => Number(x.toFixed(1))) }));

function peer(args: string[]): Record<string, number> | { skipped: string } {
  try {
    return JSON.parse(execFileSync('python3', [PEERS, ...args], { encoding: 'utf8' })) as Record<string, number>;
  } catch (err) {
    return { skipped: String(err).slice(0, 200) };
  }
}

/** Best run_ms and CPU ms of each pool, runs interleaved, and the last answer of each. */
async function interleaved(type: 'components' | 'diffusion', spec: object, params: object, threads: number) {
  const best = { base: { run_ms: Infinity, cpu_ms: Infinity, answer: {} as unknown }, head: { run_ms: Infinity, cpu_ms: Infinity, answer: {} as unknown } };
  for (let i = 0; i < repeats; i++) {
    for (const name of ['base', 'head'] as const) {
      const cpu = process.cpuUsage();
      const { result, stats } = await pools[name].runDetailed(type, spec as never, params as never, { threads });
      const spent = process.cpuUsage(cpu);
      best[name].run_ms = Math.min(best[name].run_ms, Math.round(stats.build_ms + stats.run_ms));
      best[name].cpu_ms = Math.min(best[name].cpu_ms, Math.round((spent.user + spent.system) / 1000));
      const { field: _field, histogram: _histogram, ...answer } = result as unknown as Record<string, unknown>;
      best[name].answer = answer;
    }
  }
  return best;
}

if (which === 'all' || which === 'components') {
  for (const density of [0.2, 0.69]) {
    const side = sideArg ?? 200;
    const spec = { dimensions: 3, size: side, obstacles: { density, seed: 7 } };
    const row: Record<string, unknown> = { kernel: 'components', side, density, repeats };
    for (const threads of [1, 2]) row[`threads${threads}`] = await interleaved('components', spec, {}, threads);
    row.scipy = peer(['components', String(side), '3', String(density), '7', '3']);
    console.log(JSON.stringify(row));
  }
}
if (which === 'all' || which === 'diffusion') {
  const side = sideArg ?? 160;
  const steps = 40;
  const alpha = 0.15;
  const density = 0.2;
  const spec = { dimensions: 3, size: side, obstacles: { density, seed: 7 } };
  const params = { steps, alpha, initial: [{ cell: [side / 2, side / 2, side / 2], value: 1000 }] };
  const row: Record<string, unknown> = { kernel: 'diffusion', side, steps, density, repeats };
  for (const threads of [1, 2]) row[`threads${threads}`] = await interleaved('diffusion', spec, params, threads);
  row.numpy = peer(['diffusion', String(side), '3', String(density), '7', '3', String(steps), String(alpha)]);
  console.log(JSON.stringify(row));
}
await Promise.all(Object.values(pools).map((pool) => pool.close()));
