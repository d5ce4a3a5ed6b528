/**
 * Components' kept face buffers reach their slab threads unzeroed and each thread zeroes its own
 * (slab-buffers.ts, components.ts): no byte a former run left there survives a run, and the
 * answers stay those of fresh buffers (shared-buffer-pool.test.ts checks the answers).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { SharedBufferPool } from '../../worker/kernels/shared-buffer-pool.ts';
import { allocateSlabBuffers } from '../../worker/kernels/slab-buffers.ts';
import { planSlabs } from '../../worker/kernels/slabs.ts';

const GARBAGE = 0xa5a5a5a5 | 0;

const pool = new KernelPool({ threads: 2, parallelMinCells: { components: 0 }, minRowsPerSlab: 2 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

/** Whether any aligned word of a kept buffer still holds the garbage (no label, size, flag or count reads so). */
function garbageLeft(): boolean {
  return pool.sharedBuffers.peek().some((buffer) => new Int32Array(buffer, 0, buffer.byteLength >> 2).includes(GARBAGE));
}

const specArb = fc.record({
  shape: fc.oneof(fc.tuple(fc.integer({ min: 4, max: 30 }), fc.integer({ min: 1, max: 30 })), fc.tuple(fc.integer({ min: 4, max: 12 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }))),
  boundary: fc.constantFrom('open' as const, 'periodic' as const),
  obstacles: fc.record({ density: fc.double({ min: 0, max: 0.9, noNaN: true }), seed: fc.integer({ min: 0, max: 1000 }) }),
});

describe('components face buffers kept between runs', () => {
  it('hold nothing of a former run once a run on them ends', { timeout: 60_000 }, async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(specArb, fc.constantFrom(1, 2), async (spec, threads) => {
        pool.sharedBuffers.clear();
        await pool.run('components', spec, {}, { threads });
        for (const buffer of pool.sharedBuffers.peek()) new Uint8Array(buffer).fill(0xa5);
        // The same lengths again: this run takes every buffer just filled.
        await pool.run('components', spec, {}, { threads });
        if (pool.sharedBuffers.peek().length > 0) checked++;
        expect(garbageLeft(), JSON.stringify(spec)).toBe(false);
      }),
      { numRuns: 150 },
    );
    expect(checked).toBeGreaterThan(100);
  });
});

describe('allocateSlabBuffers for components from a pool', () => {
  it('leaves kept face buffers to their slabs (flagged), and zeroes the rest itself', () => {
    const lattice = resolveLattice({ shape: [6, 5, 4] });
    const slabs = planSlabs(lattice, 2);
    const buffers = new SharedBufferPool();
    const first = allocateSlabBuffers('components', lattice, slabs, {}, buffers);
    expect(first.dirtyFaces).toBeUndefined();
    for (const list of [first.faceLabels, first.faceSizes, first.faceFlags, first.stats, first.claims]) {
      for (const buffer of list) {
        new Uint8Array(buffer).fill(0xa5);
        buffers.give(buffer);
      }
    }
    const again = allocateSlabBuffers('components', lattice, slabs, {}, buffers);
    expect(again.dirtyFaces).toEqual([true, true]);
    expect(new Set(again.faceSizes)).toEqual(new Set(first.faceSizes));
    for (const buffer of [...again.stats, ...again.claims]) expect(new Uint8Array(buffer).every((byte) => byte === 0)).toBe(true);
  });
});

describe('SharedBufferPool.takeUnzeroed', () => {
  it('says whether the buffer is a kept one, left as it was, or fresh', () => {
    const buffers = new SharedBufferPool(1024);
    const fresh = buffers.takeUnzeroed(100);
    expect(fresh.dirty).toBe(false);
    new Uint8Array(fresh.buffer).fill(7);
    buffers.give(fresh.buffer);
    const kept = buffers.takeUnzeroed(100);
    expect(kept).toEqual({ buffer: fresh.buffer, dirty: true });
    expect(buffers.keptBytes).toBe(0);
  });
});
