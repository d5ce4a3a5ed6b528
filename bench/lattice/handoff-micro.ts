/**
 * What a hand-off to a kept thread and back costs on this machine, apart from any kernel: the
 * round trip of an empty task (a) through the kernel pool's piscina (`{ kind: 'ping' }`, the
 * thread asleep in piscina's Atomics.wait, main asleep in its event loop), (b) through a plain
 * Worker that sleeps in Atomics.wait and answers with Atomics.notify, main waiting with
 * Atomics.waitAsync, (c) the same with a message back instead of the notify, and (d) with the
 * thread spinning on the shared word instead of sleeping (main still asleep). Medians and 90th
 * percentiles of `rounds` round trips each, in µs, with a pause between trips so that both
 * sides fall asleep as they do between runs.
 *
 *   node --import tsx bench/lattice/handoff-micro.ts [rounds] [pause_ms]
 */
import { loadavg } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { THREAD_FILE } from '../../worker/kernels/thread-file.ts';

const rounds = Number(process.argv[2] ?? 200);
const pauseMs = Number(process.argv[3] ?? 2);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const summary = (xs: number[]): { median: number; p90: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: Math.round(s[Math.floor(s.length / 2)]! * 1000), p90: Math.round(s[Math.floor(s.length * 0.9)]! * 1000) };
};

// The thread of (b), (c), (d): word 0 counts requests, word 1 answers; word 2 = 1 means spin.
const threadCode = `
const { workerData } = require('node:worker_threads');
const ints = new Int32Array(workerData.buffer);
const port = workerData.port;
let seen = 0;
for (;;) {
  if (Atomics.load(ints, 2) === 1) { while (Atomics.load(ints, 0) === seen) {} }
  else Atomics.wait(ints, 0, seen);
  seen = Atomics.load(ints, 0);
  if (seen < 0) break;
  if (Atomics.load(ints, 3) === 1) port.postMessage(seen);
  else { Atomics.store(ints, 1, seen); Atomics.notify(ints, 1); }
}
`;

async function raw(mode: 'notify' | 'message' | 'spin'): Promise<number[]> {
  const buffer = new SharedArrayBuffer(16);
  const ints = new Int32Array(buffer);
  const { port1, port2 } = new MessageChannel();
  Atomics.store(ints, 2, mode === 'spin' ? 1 : 0);
  Atomics.store(ints, 3, mode === 'message' ? 1 : 0);
  const worker = new Worker(threadCode, { eval: true, workerData: { buffer, port: port2 }, transferList: [port2] });
  await sleep(100);
  const times: number[] = [];
  for (let i = 1; i <= rounds + 10; i++) {
    await sleep(pauseMs);
    const t0 = performance.now();
    Atomics.store(ints, 0, i);
    Atomics.notify(ints, 0);
    if (mode === 'message') {
      await new Promise<void>((resolve) => port1.once('message', () => resolve()));
    } else {
      const wait = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> } }).waitAsync(ints, 1, i - 1);
      if (wait.async) await wait.value;
    }
    if (i > 10) times.push(performance.now() - t0);
  }
  Atomics.store(ints, 0, -1);
  Atomics.notify(ints, 0);
  port1.close();
  await worker.terminate();
  void receiveMessageOnPort;
  return times;
}

async function piscinaPing(): Promise<number[]> {
  const pool = new Piscina({ filename: THREAD_FILE, minThreads: 1, maxThreads: 1, idleTimeout: Infinity });
  await pool.run({ kind: 'ping' });
  const times: number[] = [];
  for (let i = 0; i < rounds + 10; i++) {
    await sleep(pauseMs);
    const t0 = performance.now();
    await pool.run({ kind: 'ping' });
    if (i >= 10) times.push(performance.now() - t0);
  }
  await pool.close();
  return times;
}

const load = loadavg()[0]!.toFixed(2);
const out: Record<string, unknown> = { rounds, pause_ms: pauseMs, load };
out['a_piscina_ping'] = summary(await piscinaPing());
out['b_atomics_wait_notify'] = summary(await raw('notify'));
out['c_atomics_wait_message_back'] = summary(await raw('message'));
out['d_thread_spins_notify'] = summary(await raw('spin'));
console.log(JSON.stringify(out));
