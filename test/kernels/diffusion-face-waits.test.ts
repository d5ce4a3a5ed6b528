/**
 * Diffusion's slabs wait only for their neighbours' face rows, and on 3 or more axes even slabs
 * step downwards (diffusion.ts): 2 and 4 threads must give the very field one thread gives, bit
 * for bit, with sources on the face rows (their heat travels in the faces written before it is
 * added) and on periodic lattices (a slab's neighbours on both sides).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { planSlabs } from '../../worker/kernels/slabs.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';

const pool = new KernelPool({ threads: 4 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

async function field(spec: object, params: object, threads: number): Promise<Float32Array> {
  let slabs: readonly Float32Array[] = [];
  await pool.run('diffusion', spec, params, { threads, onField: (kept) => (slabs = kept) });
  const out = new Float32Array(slabs.reduce((cells, slab) => cells + slab.length, 0));
  let at = 0;
  for (const slab of slabs) {
    out.set(slab, at);
    at += slab.length;
  }
  return out;
}

describe('diffusion in slabs that wait for their neighbours only', () => {
  it('gives 2 and 4 threads the bit-same field as one, sources on the faces included', async () => {
    const arb = fc
      .record({
        shape: fc.array(fc.integer({ min: 4, max: 9 }), { minLength: 3, maxLength: 4 }),
        boundary: fc.constantFrom('open' as const, 'periodic' as const),
        density: fc.constantFrom(0, 0.1, 0.3),
        steps: fc.integer({ min: 1, max: 7 }),
        seed: fc.integer({ min: 1, max: 1000 }),
      })
      .chain((c) => {
        const lattice = resolveLattice({ shape: c.shape, boundary: c.boundary, obstacles: { density: c.density, seed: c.seed } });
        const rowCells = lattice.strides[0]!;
        // Sources on the slabs' first and last rows (for 2 and 4 slabs), anywhere along them.
        const faceRows = [...new Set([2, 4].flatMap((n) => planSlabs(lattice, n).flatMap((s) => [s.row0, s.row1 - 1])))];
        const onFace = fc.record({ row: fc.constantFrom(...faceRows), at: fc.integer({ min: 0, max: rowCells - 1 }), value: fc.double({ min: 0.5, max: 50, noNaN: true }) });
        return fc.record({ c: fc.constant(c), sources: fc.array(onFace, { minLength: 1, maxLength: 4 }) }).map(({ sources }) => {
          const cell = (index: number): number[] => lattice.shape.map((_, a) => Math.floor(index / lattice.strides[a]!) % lattice.shape[a]!);
          const points = sources.map((s) => ({ cell: cell(s.row * rowCells + s.at), value: s.value }));
          return { spec: { shape: c.shape, boundary: c.boundary, obstacles: { density: c.density, seed: c.seed } }, params: { steps: c.steps, alpha: 0.12, sources: points, initial: points.slice(0, 1) } };
        });
      });
    await fc.assert(
      fc.asyncProperty(arb, async ({ spec, params }) => {
        const one = await field(spec, params, 1);
        for (const threads of [2, 4]) {
          const many = await field(spec, params, threads);
          const where = `${JSON.stringify(spec)} ${JSON.stringify(params)} threads ${threads}`;
          const first = one.findIndex((value, i) => !Object.is(value, many[i]));
          expect(first, `${where}: cell ${first}: ${one[first]} vs ${many[first]}`).toBe(-1);
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
