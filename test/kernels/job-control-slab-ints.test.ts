/** JobControl's per-slab words (diffusion.ts's face rounds): published values are seen, a cancel stops a waiter. */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { KernelError } from '../../worker/kernels/kernel-errors.ts';

describe('JobControl slab words', () => {
  it('returns once the slab’s word reaches the value, each slab and slot apart', () => {
    const control = JobControl.create(3);
    control.publishSlabInt(2, 1, 4);
    expect(() => control.awaitSlabInt(2, 1, 4, 0)).not.toThrow();
    expect(() => control.awaitSlabInt(2, 1, 3, 0)).not.toThrow();
    // Another slab's word, and the other slot, are still 0: with the run cancelled, the wait throws rather than sleeps.
    control.cancel();
    expect(() => control.awaitSlabInt(1, 1, 1, 0)).toThrow(KernelError);
    expect(() => control.awaitSlabInt(2, 0, 1, 0)).toThrow(KernelError);
    expect(() => control.awaitSlabInt(2, 1, 5, 0)).toThrow(KernelError);
  });

  it('wakes a thread sleeping on a word when the word is published, and when the run is cancelled', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const ints = new Int32Array(workerData.ints);
      // The wait of awaitSlabInt: asleep on slab 1's first word until woken (10 s at most).
      const at = workerData.at;
      parentPort.postMessage('waiting');
      const t = performance.now();
      Atomics.wait(ints, at, 0, 10000);
      parentPort.postMessage(performance.now() - t);
    `;
    for (const how of ['publish', 'cancel'] as const) {
      const control = JobControl.create(2);
      const at = control.ints.length - 2;
      const worker = new Worker(code, { eval: true, workerData: { ints: control.buffers.ints, at } });
      const messages: unknown[] = [];
      const slept = new Promise<number>((resolve) => worker.on('message', (m) => (m === 'waiting' ? messages.push(m) : resolve(m as number))));
      while (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (how === 'publish') control.publishSlabInt(1, 0, 1);
      // A cancel must wake it though its word did not change (checked below).
      else control.cancel();
      const ms = await slept;
      await worker.terminate();
      expect(ms, how).toBeLessThan(5000);
      if (how === 'cancel') expect(Atomics.load(control.ints, at), how).toBe(0);
    }
  }, 30_000);
});
