/**
 * Components and diffusion beside their grid-native peers (scipy.ndimage.label, a numpy
 * stencil), in-process through the kernel pool, on the same lattices in one run.
 *
 *   npx tsx bench/lattice/cc-diffusion-measure.ts [components|diffusion|all|full] [side]
 *
 * `full` (not part of `all`): components with `connectivity: "full"` beside scipy with a full
 * structure, on the 3-D cube at densities 0.69 and 0.9 (near the 26-neighbour threshold) and a
 * 2-D square of as many cells at 0.59 (near the 8-neighbour threshold).
 *
 * `side` replaces both cubes' sides (200 for components, 160 for diffusion): 216 or more gives
 * the ≥ 10^7 cells on which 2 threads are to take ≤ 1/1.7 of one thread's time.
 *
 * Prints one JSON line per case: the engine's best run_ms, wall_ms and CPU ms (all threads) of 3
 * with 1 and 2 threads, its memory, the peer's best wall and CPU ms, and both answers.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';

const PEERS = fileURLToPath(new URL('./cc_diffusion_peers.py', import.meta.url));
const REPEATS = 3;
const which = process.argv[2] ?? 'all';
const sideArg = process.argv[3] === undefined ? undefined : Number(process.argv[3]);

function peer(args: string[]): Record<string, number> | { skipped: string } {
  try {
    return JSON.parse(execFileSync('python3', [PEERS, ...args], { encoding: 'utf8' })) as Record<string, number>;
  } catch (err) {
    return { skipped: String(err).slice(0, 200) };
  }
}

async function best(pool: KernelPool, run: () => ReturnType<KernelPool['runDetailed']>) {
  let bestRun = Infinity;
  let bestWall = Infinity;
  let bestCpu = Infinity;
  let last: Awaited<ReturnType<KernelPool['runDetailed']>> | null = null;
  for (let i = 0; i < REPEATS; i++) {
    // CPU of every thread of this process: on a shared, busy machine the fair per-core figure.
    const cpu = process.cpuUsage();
    last = await run();
    const spent = process.cpuUsage(cpu);
    bestCpu = Math.min(bestCpu, (spent.user + spent.system) / 1000);
    bestRun = Math.min(bestRun, last.stats.build_ms + last.stats.run_ms);
    bestWall = Math.min(bestWall, last.stats.wall_ms);
  }
  return { run_ms: Math.round(bestRun), wall_ms: Math.round(bestWall), cpu_ms: Math.round(bestCpu), memory_bytes: (last!.result as { memory_bytes: number }).memory_bytes, last: last! };
}

const pool = new KernelPool({ threads: 2 });
await pool.start();
console.log(JSON.stringify({ load_average: loadavg().map((x) => Number(x.toFixed(1))) }));
if (which === 'all' || which === 'components') {
  for (const density of [0.2, 0.69]) {
    const side = sideArg ?? 200;
    const spec = { dimensions: 3, size: side, obstacles: { density, seed: 7 } };
    const row: Record<string, unknown> = { kernel: 'components', side, density };
    for (const threads of [1, 2]) {
      const { last, ...figures } = await best(pool, () => pool.runDetailed('components', spec, {}, { threads }));
      const result = last.result as { count: number; largest: number };
      row[`threads${threads}`] = { ...figures, count: result.count, largest: result.largest };
    }
    row.scipy = peer(['components', String(side), '3', String(density), '7', String(REPEATS)]);
    console.log(JSON.stringify(row));
  }
}
if (which === 'full') {
  const side = sideArg ?? 200;
  const square = Math.round(Math.sqrt(side ** 3));
  for (const [dims, size, density] of [[3, side, 0.69], [3, side, 0.9], [2, square, 0.59]] as const) {
    const spec = { dimensions: dims, size, obstacles: { density, seed: 7 } };
    const row: Record<string, unknown> = { kernel: 'components', connectivity: 'full', dimensions: dims, side: size, density };
    for (const threads of [1, 2]) {
      const { last, ...figures } = await best(pool, () => pool.runDetailed('components', spec, { connectivity: 'full' }, { threads }));
      const result = last.result as { count: number; largest: number };
      row[`threads${threads}`] = { ...figures, method: last.stats.method, count: result.count, largest: result.largest };
    }
    row.scipy = peer(['components', String(size), String(dims), String(density), '7', String(REPEATS), 'full']);
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
  const row: Record<string, unknown> = { kernel: 'diffusion', side, steps, density };
  for (const threads of [1, 2]) {
    const { last, ...figures } = await best(pool, () => pool.runDetailed('diffusion', spec, params, { threads }));
    const result = last.result as { total_heat: number; max: number; min: number };
    const cellSteps = side ** 3 * steps;
    row[`threads${threads}`] = { ...figures, mcell_steps_per_s: Math.round(cellSteps / figures.run_ms / 1000), total: result.total_heat, max: result.max, min: result.min };
  }
  row.numpy = peer(['diffusion', String(side), '3', String(density), '7', String(REPEATS), String(steps), String(alpha)]);
  console.log(JSON.stringify(row));
}
await pool.close();
