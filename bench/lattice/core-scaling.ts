/**
 * Whether the machine gives two threads twice the compute: the same pure-ALU loop (no memory
 * traffic, no shared state) timed in one worker thread, then in two at once. A kernel cannot
 * scale past what this reports, so read it beside the 2-threads ÷ 1-thread rows of
 * `npm run bench:lattice -- --threads-only`. Prints one JSON line per round.
 *
 *   node --import tsx bench/lattice/core-scaling.ts [ROUNDS] [ITERATIONS]
 */
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';

const rounds = Number(process.argv[2] ?? 5);
const iterations = Number(process.argv[3] ?? 3e8);

/** The thread: a linear congruential loop, warmed once, then timed per message. */
const THREAD = `
const { parentPort } = require('node:worker_threads');
const spin = (n) => { let x = 1; for (let i = 0; i < n; i++) x = (x * 1103515245 + 12345) | 0; return x; };
spin(1e7);
parentPort.on('message', (n) => { const t = performance.now(); const x = spin(n); parentPort.postMessage([performance.now() - t, x]); });
`;

const threads = [new Worker(THREAD, { eval: true }), new Worker(THREAD, { eval: true })];
const timed = (worker: Worker): Promise<[number, number]> =>
  new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(iterations);
  });
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return Math.round((used.user + used.system) / 1000);
};

try {
  for (let round = 0; round < rounds; round++) {
    const load = loadavg()[0]!;
    let cpu = process.cpuUsage();
    let started = performance.now();
    await timed(threads[0]!);
    const oneMs = performance.now() - started;
    const oneCpu = cpuMs(cpu);
    cpu = process.cpuUsage();
    started = performance.now();
    const each = await Promise.all(threads.map(timed));
    const twoMs = performance.now() - started;
    console.log(
      JSON.stringify({
        load_average: Number(load.toFixed(2)),
        one_thread_ms: Math.round(oneMs),
        one_thread_cpu_ms: oneCpu,
        two_threads_ms: Math.round(twoMs),
        two_threads_each_ms: each.map(([ms]) => Math.round(ms)),
        two_threads_cpu_ms: cpuMs(cpu),
        // Twice the work in two threads: 2 means two full cores.
        scaling: Number(((2 * oneMs) / twoMs).toFixed(2)),
      }),
    );
  }
} finally {
  await Promise.all(threads.map((worker) => worker.terminate()));
}
