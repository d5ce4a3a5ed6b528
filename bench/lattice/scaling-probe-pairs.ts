/**
 * Whether the machine probe (machine-probe.ts) foretells a slow two-thread run: one pool, after
 * warm-up, `rounds` times: a probe round, a pause of `pause_ms` (so the probe does not weigh on the
 * run), one run with 1 thread and one with 2 (216³, density 0.2; diffusion with 10 steps), each with
 * its wall and CPU ms. Prints each round and the walls' medians split by the probe's alu8 and stream.
 *
 *   node --import tsx bench/lattice/scaling-probe-pairs.ts [components|diffusion] [rounds] [pause_ms]
 */
import { loadavg } from 'node:os';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { MachineProbe } from './machine-probe.ts';
import { median, round } from './measure.ts';

const kernel = (process.argv[2] ?? 'diffusion') as 'components' | 'diffusion';
const rounds = Number(process.argv[3] ?? 20);
const pauseMs = Number(process.argv[4] ?? 300);
const spec = { shape: [216, 216, 216], boundary: 'open', obstacles: { density: 0.2, seed: 7 } };
const params = kernel === 'diffusion' ? { steps: 10, alpha: 0.15, initial: [{ cell: [108, 108, 108], value: 1000 }] } : {};
const pool = new KernelPool({ threads: 2 });
const probe = new MachineProbe();
await pool.start();
const timed = async (threads: number): Promise<{ wall: number; cpu: number }> => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await pool.run(kernel, spec, params, { threads });
  const used = process.cpuUsage(cpu);
  return { wall: round(performance.now() - started), cpu: round((used.user + used.system) / 1000) };
};
const out: Array<Record<string, unknown>> = [];
try {
  for (const threads of [1, 2]) for (let i = 0; i < 3; i++) await timed(threads);
  for (let r = 0; r < rounds; r++) {
    const machine = await probe.round();
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const one = await timed(1);
    const two = await timed(2);
    out.push({ load: round(loadavg()[0]!), ...machine, one, two, ratio: round(one.wall / two.wall) });
  }
} finally {
  await pool.close();
  await probe.close();
}
const split = (key: 'alu8' | 'stream', at: number): Record<string, unknown> => {
  const hi = out.filter((o) => (o[key] as number) >= at);
  const lo = out.filter((o) => (o[key] as number) < at);
  const walls = (xs: typeof out): number | null => (xs.length === 0 ? null : round(median(xs.map((o) => (o['two'] as { wall: number }).wall))));
  const ratios = (xs: typeof out): number | null => (xs.length === 0 ? null : round(median(xs.map((o) => o['ratio'] as number))));
  return { [`${key} >= ${at}`]: { rounds: hi.length, two_wall: walls(hi), ratio: ratios(hi) }, [`${key} < ${at}`]: { rounds: lo.length, two_wall: walls(lo), ratio: ratios(lo) } };
};
console.log(JSON.stringify({ kernel, rounds, pause_ms: pauseMs, ratio: round(median(out.map((o) => o['ratio'] as number))), by_alu8: split('alu8', 1.8), by_stream: split('stream', 1.5), rounds_measured: out }));
