/**
 * The components artefact's labels by runs in WebAssembly against the cell-by-cell labelling in
 * JavaScript (numbered by first cell, as scipy.ndimage.label does) on random lattices of 1 to 4
 * axes, open and periodic, with procedural, explicit and no obstacles, and cells forced open.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { LatticeSpecInput } from '../../shared/lattice/types.ts';
import { labelCellsWasm } from '../../worker/kernels/cell-labelling-wasm.ts';
import { labelComponentsByCell } from '../../worker/kernels/component-labels.ts';

const latticeArb: fc.Arbitrary<{ spec: LatticeSpecInput; open: number[] }> = fc
  .integer({ min: 1, max: 4 })
  .chain((d) =>
    fc.record({
      head: fc.array(fc.integer({ min: 1, max: [1, 1, 40, 9, 5][d]! }), { minLength: d - 1, maxLength: d - 1 }),
      line: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(1, 2, 3, 31, 32, 33, 64, 65)),
      boundary: fc.constantFrom('open' as const, 'periodic' as const),
      obstacles: fc.oneof(
        fc.record({ density: fc.double({ min: 0, max: 0.8, noNaN: true }), seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
        fc.constant(undefined),
      ),
      openSeeds: fc.array(fc.nat(), { maxLength: 4 }),
    }),
  )
  .map(({ head, line, boundary, obstacles, openSeeds }) => {
    const shape = [...head, line];
    const cells = shape.reduce((a, b) => a * b, 1);
    return { spec: { shape, boundary, ...(obstacles ? { obstacles } : {}) }, open: [...new Set(openSeeds.map((s) => s % cells))].sort((a, b) => a - b) };
  });

describe('cell labels in WebAssembly', () => {
  it('equal the cell-by-cell labelling, labels and sizes', () => {
    fc.assert(
      fc.property(latticeArb, ({ spec, open }) => {
        const lattice = resolveLattice(spec);
        const expected = labelComponentsByCell(lattice, () => undefined, open);
        const actual = labelCellsWasm(lattice, () => undefined, open);
        expect([...actual.sizes]).toEqual([...expected.sizes]);
        expect(Buffer.from(actual.labels.buffer).equals(Buffer.from(expected.labels.buffer))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('labels a lattice with explicit obstacles and one of 3 cells per line', () => {
    const lattice = resolveLattice({ shape: [4, 3, 3], boundary: 'periodic', obstacles: { blocked: [[0, 1, 1], [2, 0, 0], [3, 2, 1]] } } as LatticeSpecInput);
    const expected = labelComponentsByCell(lattice);
    const actual = labelCellsWasm(lattice, () => undefined, []);
    expect([...actual.labels]).toEqual([...expected.labels]);
  });
});
