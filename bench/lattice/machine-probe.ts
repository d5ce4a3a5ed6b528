/**
 * The machine's own 2 ÷ 1 taken right after a bench child's measured runs, in the same process and
 * the same seconds as the kernel's: two plain worker threads, each with its own 40 MiB
 * Float32Array (a 216³ slab's field is 25 MiB, one thread's whole field 40 MiB), time each
 * probe in one thread, then in both at once. 2 means the host gave two threads twice one's.
 *
 * - `stream`: memmove over the thread's array (copyWithin, read and write 40 MiB a pass), as
 *   the diffusion stencil and the zeroing of kept memory move memory: the host's memory bandwidth.
 * - `alu8`: eight independent multiply chains (throughput-bound): two full cores give 2, two
 *   hyperthreads of one core well under 2.
 * - `alu`: one dependent multiply chain (latency-bound, as core-scaling.ts): hyperthreads of one
 *   core give nearly 2 too, so this one alone cannot tell them from two cores.
 *
 * A round takes ~40 ms. Each thread times its own work (no wake-up in the figure).
 */
import { Worker } from 'node:worker_threads';

const THREAD = `
const { parentPort } = require('node:worker_threads');
const cells = 10 * 2 ** 20;
const a = new Float32Array(cells);
for (let i = 0; i < cells; i++) a[i] = i & 255;
const half = cells >> 1;
const work = {
  stream(n) { for (let k = 0; k < n; k++) { a.copyWithin(0, half); a.copyWithin(half, 0, half); } return a[n & 1023]; },
  alu8(n) {
    let p = 1, q = 2, r = 3, s = 4, t = 5, u = 6, v = 7, w = 8;
    for (let i = 0; i < n; i++) {
      p = (p * 1103515245 + 12345) | 0; q = (q * 1103515245 + 12345) | 0; r = (r * 1103515245 + 12345) | 0; s = (s * 1103515245 + 12345) | 0;
      t = (t * 1103515245 + 12345) | 0; u = (u * 1103515245 + 12345) | 0; v = (v * 1103515245 + 12345) | 0; w = (w * 1103515245 + 12345) | 0;
    }
    return p ^ q ^ r ^ s ^ t ^ u ^ v ^ w;
  },
  alu(n) { let x = 1; for (let i = 0; i < n; i++) x = (x * 1103515245 + 12345) | 0; return x; },
};
for (const kind of Object.keys(work)) work[kind](kind === 'stream' ? 1 : 1e6);
parentPort.on('message', ([kind, n]) => {
  const t = performance.now();
  const x = work[kind](n);
  parentPort.postMessage([performance.now() - t, x]);
});
`;

/** Work per probe: ~10 ms in one thread on the 2.6 GHz EPYC. */
const WORK: Record<ProbeKind, number> = { stream: 2, alu8: 3e6, alu: 1e7 };
export type ProbeKind = 'stream' | 'alu8' | 'alu';
const KINDS: ProbeKind[] = ['stream', 'alu8', 'alu'];

/** One round: per probe, 2 × one thread's time ÷ the slower thread's time of two at once. */
export type ProbeRound = Record<ProbeKind, number>;

export class MachineProbe {
  private readonly threads = [new Worker(THREAD, { eval: true }), new Worker(THREAD, { eval: true })];

  private timed(worker: Worker, kind: ProbeKind): Promise<number> {
    return new Promise((resolve) => {
      worker.once('message', ([ms]: [number, number]) => resolve(ms));
      worker.postMessage([kind, WORK[kind]]);
    });
  }

  /** One round of every probe. */
  async round(): Promise<ProbeRound> {
    const out = {} as ProbeRound;
    for (const kind of KINDS) {
      const one = await this.timed(this.threads[0]!, kind);
      const both = await Promise.all(this.threads.map((worker) => this.timed(worker, kind)));
      out[kind] = Math.round(((2 * one) / Math.max(...both)) * 100) / 100;
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((worker) => worker.terminate()));
  }
}
