/**
 * Whether a slow two-thread run belongs to its process or to its moment: `processes` pool
 * processes (2 kernel threads each, warmed on small lattices) run components on 216³ (density 0.2)
 * in turn, one run each per round, for `rounds` rounds. A process that stays slow while the others
 * are fast is its own (its memory, its compiled code); rounds slow in every process are the
 * machine's. Prints each process's runs as wall/CPU ms, then per round the median wall and CPU.
 *
 *   node --import tsx bench/lattice/interleaved-pools.ts [processes] [rounds] [threads]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { median, round } from './measure.ts';

interface Run {
  wall: number;
  cpu: number;
}

const spec = { shape: [216, 216, 216], boundary: 'open', obstacles: { density: 0.2, seed: 7 } };
const warm = { shape: [27, 27, 27], boundary: 'open', obstacles: { density: 0.2, seed: 8 } };

if (process.argv[2] === '--child') {
  const { KernelPool } = await import('../../worker/kernels/kernel-pool.ts');
  const pool = new KernelPool({ threads: 2 });
  await pool.start();
  for (let i = 0; i < 20; i++) await pool.run('components', warm, {}, { threads: 2 });
  process.on('message', (message: { threads: number } | 'stop') => {
    if (message === 'stop') {
      void pool.close().then(() => process.exit(0));
      return;
    }
    const cpu = process.cpuUsage();
    const started = performance.now();
    void pool.run('components', spec, {}, { threads: message.threads }).then(() => {
      const used = process.cpuUsage(cpu);
      process.send?.({ wall: round(performance.now() - started), cpu: round((used.user + used.system) / 1000) } satisfies Run);
    });
  });
  process.send?.('ready');
} else {
  const processes = Number(process.argv[2] ?? 4);
  const rounds = Number(process.argv[3] ?? 16);
  const threads = Number(process.argv[4] ?? 2);
  const self = fileURLToPath(import.meta.url);
  const children = await Promise.all(
    Array.from({ length: processes }, () => new Promise<ChildProcess>((ready) => {
      const child = fork(self, ['--child'], { execArgv: ['--import', 'tsx'] });
      child.once('message', () => ready(child));
    })),
  );
  const ask = (child: ChildProcess): Promise<Run> =>
    new Promise((answer) => {
      child.once('message', (run) => answer(run as Run));
      child.send({ threads });
    });
  const runs: Run[][] = children.map(() => []);
  for (let r = 0; r < rounds; r++) for (const [k, child] of children.entries()) runs[k]!.push(await ask(child));
  for (const child of children) child.send('stop');
  const rows = Array.from({ length: rounds }, (_, r) => ({
    round: r + 1,
    median_wall_ms: median(runs.map((list) => list[r]!.wall)),
    median_cpu_ms: median(runs.map((list) => list[r]!.cpu)),
  }));
  process.stdout.write(
    `${JSON.stringify({ load_average: loadavg().map(round), threads, processes: runs.map((list) => list.map((run) => `${run.wall}/${run.cpu}`).join(' ')), rounds: rows })}\n`,
  );
}
