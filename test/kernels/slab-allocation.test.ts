/**
 * A run waiting for kernel threads holds no slabs: its shared arrays are allocated only once its
 * threads are free, so runs queued behind a long one cost nothing but their description.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';

const MIB = 1024 * 1024;
const pool = new KernelPool({ threads: 1 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

describe('slab allocation', () => {
  it('allocates a waiting run’s slabs only when its thread is free', { timeout: 60_000 }, async () => {
    const abort = new AbortController();
    // Holds the only thread until aborted.
    const long = pool.run('diffusion', { shape: [200, 200] }, { steps: 1_000_000, alpha: 0.2 }, { signal: abort.signal }).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 200));
    const before = process.memoryUsage().arrayBuffers;
    // A float32 field and a code byte for each of 2^25 cells: 160 MiB once allocated.
    const waiting = pool.run('diffusion', { shape: [8192, 4096] }, { steps: 1, alpha: 0.2 });
    await new Promise((r) => setTimeout(r, 300));
    const whileWaiting = process.memoryUsage().arrayBuffers - before;
    abort.abort();
    expect(await long).toMatchObject({ code: 'cancelled' });
    const result = await waiting;
    expect(result.memory_bytes).toBeGreaterThanOrEqual(160 * MIB);
    expect(whileWaiting).toBeLessThan(16 * MIB);
  });
});
