/**
 * The WebAssembly labelling of a slab against the JavaScript one it replaces (which stays for rows
 * too long for a WebAssembly memory), and components through the pool against union-find, on
 * lattices whose lines span several 32-bit words: runs that cross words, lines of exactly 32 or
 * 64 cells, periodic seams. The small lattices of components.property.test.ts fit in one word.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { LatticeSpecInput } from '../../shared/lattice/types.ts';
import { FinishedClusters } from '../../worker/kernels/finished-clusters.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { labelSlabRuns, type SlabLabelling } from '../../worker/kernels/run-labelling.ts';
import { keptFlatBfs } from '../../worker/kernels/flat-bfs-wasm.ts';
import { KEEP_BYTES } from '../../worker/kernels/kept-wasm-memory.ts';
import { keptLabelling, labelSlabRunsWasm } from '../../worker/kernels/run-labelling-wasm.ts';
import { refComponents } from '../lattice/reference.ts';

const pool = new KernelPool({ threads: 2 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

/** 2 to 4 axes, the last one 1 to 100 cells long (often 31, 32, 33 or 64), a few thousand cells. */
const wideLatticeArb: fc.Arbitrary<LatticeSpecInput> = fc
  .integer({ min: 2, max: 4 })
  .chain((d) =>
    fc.record({
      head: fc.array(fc.integer({ min: 1, max: [0, 0, 30, 8, 5][d]! }), { minLength: d - 1, maxLength: d - 1 }),
      line: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(31, 32, 33, 64, 65)),
      boundary: fc.constantFrom('open' as const, 'periodic' as const),
      obstacles: fc.oneof(
        fc.record({ density: fc.double({ min: 0, max: 0.75, noNaN: true }), seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
        fc.constant(undefined),
      ),
    }),
  )
  .map(({ head, line, boundary, obstacles }) => ({ shape: [...head, line], boundary, ...(obstacles ? { obstacles } : {}) }));

/**
 * Both labellings of rows [row0, row1) of a lattice: faces, finished counts and histogram. With
 * `dirtyFaces`, the WebAssembly labelling's face labels start as garbage (as a reused buffer
 * would hold): it must write every face cell.
 */
function labelBoth(spec: LatticeSpecInput, cut: number, dirtyFaces = false) {
  const lattice = resolveLattice(spec);
  const rowCells = lattice.strides[0]!;
  const row0 = Math.min(cut, lattice.shape[0]! - 1);
  const rows = lattice.shape[0]! - row0;
  return [labelSlabRuns, labelSlabRunsWasm].map((label) => {
    const faceLabels = new Int32Array(2 * rowCells);
    if (dirtyFaces && label === labelSlabRunsWasm) faceLabels.fill(0x5a5a5a5a);
    const job: SlabLabelling = {
      lattice,
      lo: row0 * rowCells,
      rows,
      row0,
      faceLabels,
      faceSizes: new Float64Array(2 * rowCells),
      faceFlags: new Uint8Array(2 * rowCells),
      finished: new FinishedClusters(),
      tick: () => {},
    };
    const { faceCount } = label(job);
    const { count, largest, histogram } = job.finished;
    return {
      faceCount,
      faceLabels: [...job.faceLabels],
      faceSizes: [...job.faceSizes.subarray(0, faceCount)],
      faceFlags: [...job.faceFlags.subarray(0, faceCount)],
      finished: { count, largest, histogram: [...histogram] },
    };
  });
}

describe('WebAssembly run labelling', () => {
  it('labels a slab exactly as the JavaScript labelling does, into face buffers fresh or holding garbage', () => {
    fc.assert(
      fc.property(wideLatticeArb, fc.integer({ min: 0, max: 29 }), fc.boolean(), (spec, cut, dirtyFaces) => {
        const [js, wasm] = labelBoth(spec, cut, dirtyFaces);
        expect(wasm, JSON.stringify(spec)).toEqual(js);
      }),
      { numRuns: 300 },
    );
  });

  it('labels dense lattices exactly as the JavaScript labelling does, where previous-row overlaps with a four-way cell are skipped', () => {
    // At least 2/5 of a row open: the module skips a previous-row overlap holding a cell open on
    // its line and the line listed before it in both rows. Many lines per row, several words a line.
    const denseArb = fc.record({
      rows: fc.integer({ min: 2, max: 24 }),
      middle: fc.array(fc.integer({ min: 2, max: 12 }), { minLength: 1, maxLength: 2 }),
      line: fc.oneof(fc.integer({ min: 2, max: 70 }), fc.constantFrom(32, 33, 64)),
      boundary: fc.constantFrom('open' as const, 'periodic' as const),
      density: fc.double({ min: 0.2, max: 0.6, noNaN: true }),
      seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    });
    fc.assert(
      fc.property(denseArb, fc.integer({ min: 0, max: 5 }), ({ rows, middle, line, boundary, density, seed }, cut) => {
        const spec: LatticeSpecInput = { shape: [rows, ...middle, line], boundary, obstacles: { density, seed } };
        const [js, wasm] = labelBoth(spec, cut);
        expect(wasm, JSON.stringify(spec)).toEqual(js);
      }),
      { numRuns: 300 },
    );
  });

  it('joins the clusters a run of a dense row meets on the line before it, each overlap with a root of its own', async () => {
    // Row 0 blocked; in row 1 line 0 holds two runs (cells 0-2 and 4-6, two clusters so far) and
    // line 1 one run over both: its first same-row join links it to the first, and its second
    // overlap must link the two clusters' roots (joinFresh's second link). 13 of 14 cells open:
    // a dense row (the four-way skip and the renumbering's register). Then the same with the
    // clusters met in the other order, and with a third run between them.
    const cases: Array<{ line0: string; line1: string; count: number; largest: number }> = [
      { line0: 'ooo.ooo', line1: 'ooooooo', count: 1, largest: 13 },
      { line0: 'ooooooo', line1: 'ooo.ooo', count: 1, largest: 13 },
      { line0: 'o.o.o.o', line1: 'ooooooo', count: 1, largest: 11 },
      { line0: 'o.o.o.o', line1: 'ooo.ooo', count: 2, largest: 5 },
    ];
    for (const { line0, line1, count, largest } of cases) {
      const blocked: number[][] = [];
      for (let y = 0; y < 2; y++) for (let x = 0; x < 7; x++) blocked.push([0, y, x]);
      [line0, line1].forEach((line, y) => [...line].forEach((cell, x) => cell === '.' && blocked.push([1, y, x])));
      const spec = { shape: [2, 2, 7], boundary: 'open', obstacles: { blocked } } as LatticeSpecInput;
      const [js, wasm] = labelBoth(spec, 0);
      expect(wasm, line0 + ' / ' + line1).toEqual(js);
      const { memory_bytes: _bytes, ...result } = await pool.run('components', spec, {}, { threads: 1 });
      expect(result, line0 + ' / ' + line1).toEqual(refComponents(resolveLattice(spec)));
      expect([result.count, result.largest]).toEqual([count, largest]);
    }
  });

  it("labels in a thread's kept instance exactly as in a fresh one, whatever the last run left in it", () => {
    /** What a run may leave behind: every byte of the kept memory garbage. */
    const dirty = (): void => {
      new Uint8Array(keptLabelling.peek()!.memory.buffer).fill(0xff);
    };
    const small: LatticeSpecInput[] = [
      { shape: [37, 21, 9], obstacles: { density: 0.4, seed: 5 } },
      { shape: [30, 8, 65], boundary: 'periodic', obstacles: { density: 0.3, seed: 9 } },
      { shape: [29, 64], obstacles: { density: 0.5, seed: 2 } },
    ];
    for (const spec of small) {
      // A larger run first (its memory kept), then the small one in that memory, garbage-filled.
      labelBoth({ shape: [40, 60, 70], obstacles: { density: 0.35, seed: 1 } }, 0);
      dirty();
      const [js, kept] = labelBoth(spec, 3);
      dirty();
      // Two instances at once: the run cannot have the kept one.
      const holder = keptLabelling.take(0);
      const [, fresh] = labelBoth(spec, 3);
      keptLabelling.release(holder);
      expect(kept, JSON.stringify(spec)).toEqual(fresh);
      expect(kept, JSON.stringify(spec)).toEqual(js);
      expect(kept!.faceCount, JSON.stringify(spec)).toBeGreaterThan(0);
    }
  });

  it("keeps at most KEEP_BYTES of spares in a thread, all modules together, the latest release's first", () => {
    const search = keptFlatBfs.take(KEEP_BYTES / 2 + 65536);
    const labelling = keptLabelling.take(KEEP_BYTES / 2 + 65536);
    keptFlatBfs.release(search);
    expect(keptFlatBfs.peek()).toBe(search);
    keptLabelling.release(labelling);
    expect(keptLabelling.peek()).toBe(labelling);
    expect(keptFlatBfs.peek()).toBeNull();
    // Too large to keep at all: nothing else is dropped for it.
    const huge = keptFlatBfs.take(KEEP_BYTES + 65536);
    keptFlatBfs.release(huge);
    expect(keptFlatBfs.peek()).toBeNull();
    expect(keptLabelling.peek()).toBe(labelling);
  });

  it('gives the reference components through the pool on lines of several words', async () => {
    await fc.assert(
      fc.asyncProperty(wideLatticeArb, async (spec) => {
        const expected = refComponents(resolveLattice(spec));
        for (const threads of [1, 2]) {
          const { memory_bytes, ...result } = await pool.run('components', spec, {}, { threads });
          expect(result, `${JSON.stringify(spec)} threads ${threads}`).toEqual(expected);
          expect(memory_bytes).toBeGreaterThan(0);
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
