/**
 * Slab buffers kept between runs (worker/kernels/shared-buffer-pool.ts): a run on buffers the last
 * run left full of garbage (another tenant's cells, say) answers exactly as a run on fresh ones,
 * for every slab kernel; the pool keeps at most its limit, oldest dropped first.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { SharedBufferPool, zeroShared } from '../../worker/kernels/shared-buffer-pool.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import { refPathProblem } from '../lattice/reference.ts';

const pool = new KernelPool({ threads: 2, parallelMinCells: { components: 0, diffusion: 0, shortest_path: 0 }, minRowsPerSlab: 2 });
/** The same runs with nothing kept: every buffer fresh. */
const fresh = new KernelPool({ threads: 2, parallelMinCells: { components: 0, diffusion: 0, shortest_path: 0 }, minRowsPerSlab: 2 });
beforeAll(() => Promise.all([pool.start(), fresh.start()]));
afterAll(() => Promise.all([pool.close(), fresh.close()]));

/** Every kept byte garbage: what a run may leave behind. */
function dirty(): number {
  const kept = pool.sharedBuffers.peek();
  for (const buffer of kept) new Uint8Array(buffer).fill(0xa5);
  return kept.length;
}

const specArb = fc.record({
  shape: fc.oneof(fc.tuple(fc.integer({ min: 4, max: 40 }), fc.integer({ min: 1, max: 40 })), fc.tuple(fc.integer({ min: 4, max: 14 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }))),
  boundary: fc.constantFrom('open' as const, 'periodic' as const),
  obstacles: fc.record({ density: fc.double({ min: 0, max: 0.6, noNaN: true }), seed: fc.integer({ min: 0, max: 1000 }) }),
});

describe('kept slab buffers', () => {
  it('answer as fresh ones, whatever the last run left in them', { timeout: 120_000 }, async () => {
    let reused = 0;
    await fc.assert(
      fc.asyncProperty(specArb, async (spec) => {
        const corner = spec.shape.map(() => 0);
        const far = spec.shape.map((side) => side - 1);
        const runs: Array<[string, object, object]> = [
          ['shortest_path', { start: corner, end: far }, { strategy: 'bfs', threads: 2 }],
          ['components', {}, { threads: 2 }],
          ['diffusion', { steps: 5, alpha: 0.15, initial: [{ cell: corner, value: 100 }], sources: [{ cell: far, value: 1 }] }, { threads: 2 }],
        ];
        for (const [type, params, options] of runs) {
          // Twice: the second run takes the buffers the first gave back, garbage-filled.
          await pool.run(type as 'components', spec, params, options);
          reused += dirty() > 0 ? 1 : 0;
          const kept = (await pool.run(type as 'components', spec, params, options)) as unknown as Record<string, unknown>;
          const expected = (await fresh.run(type as 'components', spec, params, options)) as unknown as Record<string, unknown>;
          fresh.sharedBuffers.clear();
          const where = `${type} ${JSON.stringify(spec)}`;
          if (type !== 'shortest_path') {
            // Paired component slabs split their rows where the two threads happen to meet, so
            // the bytes their run lists take vary from run to run; the answer does not.
            const { memory_bytes: _keptBytes, ...keptAnswer } = kept;
            const { memory_bytes: _freshBytes, ...freshAnswer } = expected;
            expect(keptAnswer, where).toEqual(freshAnswer);
            continue;
          }
          // Two slabs meet where their rounds happen to meet, on one shortest path or another, having
          // visited more or fewer cells: the length decides, and the path must be a valid one.
          const { path, reachable, length } = kept as { path: number[][] | null; reachable: boolean; length: number | null };
          expect({ reachable, length }, where).toEqual({ reachable: expected.reachable, length: expected.length });
          const { lattice, params: resolved } = resolveJob('shortest_path', spec, params);
          if (reachable && path !== null) expect(refPathProblem(lattice, path, resolved.start, resolved.end), where).toBeNull();
        }
      }),
      { numRuns: 60 },
    );
    expect(reused).toBeGreaterThan(100);
  });
});

describe('zeroShared', () => {
  it('zeroes every byte of a shared buffer of any length, the bytes past the last whole word too', () => {
    for (let bytes = 0; bytes <= 40; bytes++) {
      const buffer = new SharedArrayBuffer(bytes);
      new Uint8Array(buffer).fill(0xa5);
      zeroShared(buffer);
      expect(new Uint8Array(buffer).every((byte) => byte === 0), `${bytes} bytes`).toBe(true);
    }
  });
});

describe('SharedBufferPool', () => {
  it('hands back a kept buffer of the same length, zeroed', () => {
    const buffers = new SharedBufferPool(1024);
    const first = buffers.take(100);
    new Uint8Array(first).fill(7);
    buffers.give(first);
    expect(buffers.keptBytes).toBe(100);
    expect(buffers.take(50)).not.toBe(first);
    const again = buffers.take(100);
    expect(again).toBe(first);
    expect(new Uint8Array(again).every((byte) => byte === 0)).toBe(true);
    expect(buffers.keptBytes).toBe(0);
  });

  it('keeps at most its limit, the oldest dropped first, and nothing larger than it', () => {
    const buffers = new SharedBufferPool(1000);
    const a = new SharedArrayBuffer(400);
    const b = new SharedArrayBuffer(400);
    const c = new SharedArrayBuffer(300);
    buffers.give(a);
    buffers.give(b);
    buffers.give(c);
    expect(buffers.keptBytes).toBe(700);
    expect(buffers.peek()).toEqual([b, c]);
    buffers.give(new SharedArrayBuffer(1001));
    expect(buffers.keptBytes).toBe(700);
    buffers.give(c);
    expect(buffers.keptBytes).toBe(700);
    expect(buffers.take(400)).toBe(b);
    expect(buffers.take(400)).not.toBe(a);
  });
});
