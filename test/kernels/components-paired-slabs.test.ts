/**
 * Paired slabs of the components kernel: two slab threads label one range of rows from its two
 * ends and meet wherever their speeds put them (components.ts `slabRows`). Through the pool the
 * meeting row depends on timing, so here every split is forced: for random lattices, slab counts
 * and meeting rows (none, one or all rows to either thread), each slab labels the rows its claim
 * allows into face buffers and stats holding garbage (as reused buffers and kept instances would),
 * then the faces merge as slab 0 merges them, against union-find.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { Lattice, LatticeSpecInput } from '../../shared/lattice/types.ts';
import { labelRows, mergeFaces, slabRows } from '../../worker/kernels/components.ts';
import { keptFaceMerge } from '../../worker/kernels/face-merge.ts';
import { keptLabelling } from '../../worker/kernels/run-labelling-wasm.ts';
import { allocateSlabBuffers } from '../../worker/kernels/slab-buffers.ts';
import { planSlabs } from '../../worker/kernels/slabs.ts';
import type { ComponentsTask } from '../../worker/kernels/task.ts';
import { refComponents } from '../lattice/reference.ts';
import { refNeighboursWith } from '../lattice/reference-fields.ts';

const refFullNeighbours = (lattice: Lattice, index: number): number[] => refNeighboursWith(lattice, index, 'full');

/** 2 to 4 axes, up to 12 rows of axis 0, lines of 1 to 40 cells (across a word now and then). */
const latticeArb: fc.Arbitrary<LatticeSpecInput> = fc
  .integer({ min: 2, max: 4 })
  .chain((d) =>
    fc.record({
      rows: fc.integer({ min: 1, max: 12 }),
      middle: fc.array(fc.integer({ min: 1, max: [1, 1, 1, 6, 3][d]! }), { minLength: d - 2, maxLength: d - 2 }),
      line: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(31, 32, 33, 40)),
      boundary: fc.constantFrom('open' as const, 'periodic' as const),
      obstacles: fc.oneof(
        fc.record({ density: fc.double({ min: 0, max: 0.7, noNaN: true }), seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
        fc.constant(undefined),
      ),
    }),
  )
  .map(({ rows, middle, line, boundary, obstacles }) => ({ shape: [rows, ...middle, line], boundary, ...(obstacles ? { obstacles } : {}) }));

/**
 * Components of `spec` over `slabCount` slabs, each pair meeting after the share of its rows
 * given by `splits` (0: the downward slab labels all of them, 1: the upward one).
 */
function pairedRun(spec: LatticeSpecInput, slabCount: number, splits: readonly number[], full: boolean) {
  const lattice = resolveLattice(spec);
  const slabs = planSlabs(lattice, Math.min(slabCount, lattice.shape[0]!));
  const buffers = allocateSlabBuffers('components', lattice, slabs);
  for (const list of [buffers.faceLabels, buffers.faceSizes, buffers.faceFlags, buffers.stats]) {
    for (const buffer of list) new Uint8Array(buffer).fill(0xa5);
  }
  for (const kept of [keptLabelling.peek(), keptFaceMerge.peek()]) if (kept) new Uint8Array(kept.memory.buffer).fill(0x5a);
  const task = (slab: number): ComponentsTask => ({ kind: 'components', control: new SharedArrayBuffer(8), lattice, slabs, slab, buffers, ...(full ? { connectivity: 'full' as const } : {}) }) as unknown as ComponentsTask;
  const labelled: number[] = [];
  for (let slab = 0; slab < slabs.length; slab++) {
    const plan = slabRows(task(slab), true);
    const pair = slab >> 1;
    // The pair's rows up to the meeting row go to its first slab, the rest to its second.
    const upward = plan.claim === undefined ? plan.rows : Math.round(splits[pair % splits.length]! * plan.rows);
    const mine = plan.claim === undefined ? plan.rows : plan.step === 1 ? upward : plan.rows - upward;
    let claimed = 0;
    const { rows } = labelRows(task(slab), { ...plan, claim: () => claimed++ < mine });
    labelled.push(rows);
  }
  return { lattice, labelled, result: mergeFaces(task(0)).result };
}

describe('components on paired slabs', () => {
  it('gives the union-find components wherever each pair of slab threads meets, into buffers holding garbage', () => {
    fc.assert(
      fc.property(
        latticeArb,
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (spec, slabCount, splits, full) => {
          const { lattice, labelled, result } = pairedRun(spec, slabCount, splits, full);
          expect(labelled.reduce((sum, rows) => sum + rows, 0)).toBe(lattice.shape[0]);
          expect(result, `${JSON.stringify(spec)} slabs ${slabCount} splits ${splits.join(',')} ${full ? 'full' : 'axis'}`).toEqual(
            refComponents(lattice, full ? refFullNeighbours : undefined),
          );
        },
      ),
      { numRuns: 600 },
    );
  });

  it('joins the periodic seam and spans axis 0 when one thread labels every row of its pair', () => {
    // A column open from the first row to the last, a wall elsewhere: spans; with the seam, one cluster.
    const spec = { shape: [6, 3], boundary: 'periodic' as const, obstacles: { blocked: [[2, 0], [2, 1]] } };
    for (const split of [0, 1, 0.5]) {
      const { result } = pairedRun(spec, 2, [split], false);
      expect(result).toEqual(refComponents(resolveLattice(spec)));
      expect(result).toMatchObject({ count: 1, largest: 16, spans_axis0: true });
    }
  });
});
