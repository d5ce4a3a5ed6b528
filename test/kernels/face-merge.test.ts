/**
 * The components kernel's WebAssembly face merge against the JavaScript merge it replaces under
 * the `axis` connectivity, on random faces (any labels, sizes past 2^32, every flag), in a fresh
 * instance and in the thread's kept one filled with garbage. The pool's results against
 * union-find are in components.property.test.ts and run-labelling-wasm.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Lattice } from '../../shared/lattice/types.ts';
import { faceJoins, mergeFacesJs } from '../../worker/kernels/components.ts';
import { keptFaceMerge, mergeFacesWasm } from '../../worker/kernels/face-merge.ts';
import { planSlabs } from '../../worker/kernels/slabs.ts';
import type { ComponentsTask } from '../../worker/kernels/task.ts';

/** Slabs of a lattice of `rows` rows of `rowCells` cells, each with random face clusters. */
const facesArb = fc
  .record({
    rowCells: fc.integer({ min: 1, max: 40 }),
    slabCount: fc.integer({ min: 1, max: 5 }),
    extraRows: fc.integer({ min: 0, max: 3 }),
    periodic: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ rowCells, slabCount, extraRows, periodic, seed }) => {
    let state = seed | 0;
    const random = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) | 0;
      return (state >>> 8) % n;
    };
    const rows = slabCount + extraRows;
    const lattice = { shape: [rows, rowCells], strides: [rowCells, 1], boundary: periodic ? 'periodic' : 'open' } as unknown as Lattice;
    const slabs = planSlabs(lattice, slabCount);
    const faceCounts = slabs.map(() => random(2 * rowCells + 1));
    const buffers = {
      faceLabels: faceCounts.map((count) => {
        const labels = new Int32Array(new SharedArrayBuffer(2 * rowCells * 4));
        // Runs of one label, as rows have, and gaps.
        for (let cell = 0; cell < labels.length; cell++) labels[cell] = cell > 0 && random(3) > 0 ? labels[cell - 1]! : random(count + 1);
        return labels.buffer as SharedArrayBuffer;
      }),
      faceSizes: faceCounts.map(() => {
        const sizes = new Float64Array(new SharedArrayBuffer(2 * rowCells * 8));
        for (let id = 0; id < sizes.length; id++) sizes[id] = random(8) === 0 ? 2 ** 32 + random(1000) : 1 + random(5000);
        return sizes.buffer as SharedArrayBuffer;
      }),
      faceFlags: faceCounts.map(() => {
        const flags = new Uint8Array(new SharedArrayBuffer(2 * rowCells));
        for (let id = 0; id < flags.length; id++) flags[id] = random(4);
        return flags.buffer as SharedArrayBuffer;
      }),
      stats: [],
    };
    const task = { kind: 'components', lattice, slabs, slab: 0, buffers } as unknown as ComponentsTask;
    // Each slab labelled upwards or downwards (its faces' order), as paired slab threads do.
    const joins = faceJoins(
      lattice,
      slabs.map((slab) => (random(2) === 0 ? { first: slab.row0, rows: slab.rows, step: 1 } : { first: slab.row1 - 1, rows: slab.rows, step: -1 })),
    );
    return { task, faceCounts, joins };
  });

describe('WebAssembly face merge', () => {
  it('totals the merged face clusters exactly as the JavaScript merge, fresh or in a garbage-filled kept instance', () => {
    fc.assert(
      fc.property(facesArb, fc.boolean(), ({ task, faceCounts, joins }, dirty) => {
        const { bytes: _jsBytes, histogram: jsHistogram, ...js } = mergeFacesJs(task, faceCounts, joins);
        // What a run may leave behind: every byte of the kept memory garbage.
        if (dirty) new Uint8Array(keptFaceMerge.peek()?.memory.buffer ?? new ArrayBuffer(0)).fill(0xa5);
        const { bytes, histogram, ...wasm } = mergeFacesWasm(task, faceCounts, joins);
        expect(wasm).toEqual(js);
        expect(Array.from(histogram)).toEqual(Array.from(jsHistogram));
        expect(bytes).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
    );
  });
});
