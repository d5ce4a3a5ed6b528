/**
 * components and diffusion against the reference implementations on the shapes the row-wise
 * kernels treat specially: up to 10 dimensions, lines whose length crosses the 32-cell words of
 * the bit planes, periodic seams on every axis, explicit obstacles, and slabs one or two rows
 * thin (up to 4 threads on a few rows).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleShape } from '../../worker/kernels/field-sample.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { LatticeSpecInput } from '../../shared/lattice/types.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { cellArb } from '../lattice/arbitraries.ts';
import { refBlocked, refComponents, refDiffusion, refSample } from '../lattice/reference.ts';

const pool = new KernelPool({ threads: 4 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

/** Line lengths around the word boundaries of the bit planes. */
const LINE_SIDES = [1, 2, 3, 31, 32, 33, 63, 64, 65, 97];

/** Shapes of 1 to 10 axes, at most ~3000 cells: either many short axes, or few rows of long lines. */
const shapeArb: fc.Arbitrary<number[]> = fc.oneof(
  fc.integer({ min: 1, max: 10 }).chain((d) => fc.array(fc.integer({ min: 1, max: d > 6 ? 2 : 4 }), { minLength: d, maxLength: d })),
  fc.tuple(
    fc.integer({ min: 1, max: 6 }),
    fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    fc.constantFrom(...LINE_SIDES),
  ).map(([rows, middle, line]) => [rows, ...middle, line]),
);

const specArb: fc.Arbitrary<{ spec: LatticeSpecInput; shape: number[] }> = fc
  .tuple(shapeArb, fc.constantFrom('open' as const, 'periodic' as const))
  .chain(([shape, boundary]) => {
    const cells = shape.reduce((p, s) => p * s, 1);
    const obstacles = fc.oneof(
      fc.record({ density: fc.double({ min: 0, max: 0.7, noNaN: true }), seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
      fc.record({ blocked: fc.array(cellArb(shape), { maxLength: Math.ceil(cells * 0.5) }) }),
    );
    return obstacles.map((chosen) => ({ spec: { shape, boundary, obstacles: chosen } as LatticeSpecInput, shape }));
  });

describe('components on wide and thin lattices', () => {
  it('matches union-find with 1 to 4 slab threads', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, async ({ spec }) => {
        const expected = refComponents(resolveLattice(spec));
        for (const threads of [1, 2, 3, 4]) {
          const { memory_bytes, ...result } = await pool.run('components', spec, {}, { threads });
          expect(result, `${JSON.stringify(spec)} threads ${threads}`).toEqual(expected);
          expect(memory_bytes).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('labels 1-D chains longer than one materialised chunk', async () => {
    for (const boundary of ['open', 'periodic'] as const) {
      for (const density of [0, 0.05, 0.5]) {
        const spec: LatticeSpecInput = { shape: [150_001], boundary, obstacles: { density, seed: 5 } };
        const expected = chainComponents(resolveLattice(spec));
        for (const threads of [1, 2, 3]) {
          const { memory_bytes: _, ...result } = await pool.run('components', spec, {}, { threads });
          expect(result, `${density} ${boundary} threads ${threads}`).toEqual(expected);
        }
      }
    }
  }, 120_000);
});

/** Components of a 1-D lattice by scanning its runs (the recursive reference is too deep here). */
function chainComponents(lattice: ReturnType<typeof resolveLattice>): ReturnType<typeof refComponents> {
  const blocked = refBlocked(lattice);
  const n = lattice.cells;
  const runs: number[] = [];
  let run = 0;
  for (let i = 0; i < n; i++) {
    if (blocked[i] === 0) run++;
    else if (run > 0) {
      runs.push(run);
      run = 0;
    }
  }
  if (run > 0) runs.push(run);
  const wraps = lattice.boundary === 'periodic' && n > 2 && blocked[0] === 0 && blocked[n - 1] === 0 && runs.length > 1;
  if (wraps) runs[0]! += runs.pop()!;
  const histogram: number[] = [];
  for (const size of runs) {
    const bin = Math.floor(Math.log2(size));
    while (histogram.length <= bin) histogram.push(0);
    histogram[bin]!++;
  }
  const spans = blocked[0] === 0 && blocked[n - 1] === 0 && (wraps || runs.length === 1);
  return { count: runs.length, largest: Math.max(0, ...runs), histogram, spans_axis0: spans };
}

describe('diffusion on wide and thin lattices', () => {
  it('matches the double-precision reference with 1 to 4 slab threads', async () => {
    const caseArb = specArb.chain(({ spec, shape }) => {
      const point = fc.record({ cell: cellArb(shape), value: fc.double({ min: -5, max: 50, noNaN: true }) });
      return fc
        .record({
          steps: fc.integer({ min: 0, max: 8 }),
          alpha: fc.double({ min: 0.01, max: 1 / (2 * shape.length), noNaN: true }),
          sources: fc.array(point, { maxLength: 2 }),
          initial: fc.array(point, { minLength: 1, maxLength: 3 }),
        })
        .map((params) => ({ spec, params }));
    });
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ spec, params }) => {
        const job = resolveJob('diffusion', spec, params);
        const field = refDiffusion(job.lattice, job.params);
        const blocked = refBlocked(job.lattice, [...job.params.sources, ...job.params.initial].map((p) => p.index));
        const openValues = Array.from(field).filter((_, i) => blocked[i] === 0);
        const total = openValues.reduce((sum, v) => sum + v, 0);
        const scale = Math.max(1, ...openValues.map(Math.abs), Math.abs(total));
        const near = (actual: number, expected: number): boolean => Math.abs(actual - expected) <= 1e-5 * scale + 1e-9;
        const values = refSample(job.lattice, field, sampleShape(job.lattice.shape));
        for (const threads of [1, 2, 3, 4]) {
          const result = await pool.run('diffusion', spec, params, { threads });
          const where = `${JSON.stringify(spec)} ${JSON.stringify(params)} threads ${threads}`;
          expect(near(result.total_heat, total), `${where} total`).toBe(true);
          expect(near(result.max, openValues.length > 0 ? Math.max(...openValues) : 0), `${where} max`).toBe(true);
          expect(near(result.min, openValues.length > 0 ? Math.min(...openValues) : 0), `${where} min`).toBe(true);
          result.field.values.forEach((value, i) => expect(near(value, values[i]!), `${where} field[${i}]`).toBe(true));
        }
      }),
      { numRuns: 250 },
    );
  }, 120_000);
});
