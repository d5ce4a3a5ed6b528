/**
 * `boundary` given per axis (some axes wrap, others end at their faces) on every kernel, against
 * the plain references, whose neighbours wrap axis by axis: components and shortest_path (one
 * pair and pairs) under both connectivities, distance_field, min_cost_path, diffusion with 1
 * and 2 slab threads, and percolation against components jobs at its densities. Also the
 * validation: one boundary per axis, no more and no fewer.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveJob } from '../../shared/lattice/job.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { cellArb, perAxisLatticeArb } from '../lattice/arbitraries.ts';
import { refBlocked, refComponents, refDiffusion, refIndex, refPathProblem, refShortestPathLength } from '../lattice/reference.ts';
import { refCosts, refDistances, refMinCost, refNeighboursWith } from '../lattice/reference-fields.ts';

const pool = new KernelPool({ threads: 2 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

const connectivityArb = fc.constantFrom('axis' as const, 'full' as const);
const neighboursUnder = (connectivity: 'axis' | 'full') => (lattice: Lattice, index: number) => refNeighboursWith(lattice, index, connectivity);

describe('per-axis boundary', () => {
  it('resolves to the wrap of each axis, and refuses a list that is not one per axis', () => {
    expect(resolveLattice({ shape: [3, 4], boundary: ['periodic', 'open'] })).toMatchObject({ boundary: 'mixed', periodic: [true, false] });
    expect(resolveLattice({ shape: [3, 4], boundary: ['periodic', 'periodic'] })).toMatchObject({ boundary: 'periodic', periodic: [true, true] });
    expect(resolveLattice({ shape: [3, 4], boundary: 'open' })).toMatchObject({ boundary: 'open', periodic: [false, false] });
    expect(() => resolveLattice({ shape: [3, 4], boundary: ['periodic'] })).toThrow(expect.objectContaining({ code: 'lattice_invalid', field: 'boundary' }));
    expect(() => resolveLattice({ dimensions: 2, size: 3, boundary: ['open', 'open', 'open'] })).toThrow(expect.objectContaining({ code: 'lattice_invalid', field: 'boundary' }));
    expect(() => resolveLattice({ shape: [3, 4], boundary: ['periodic', 'round'] })).toThrow(expect.objectContaining({ code: 'lattice_invalid' }));
  });

  it('components and shortest_path under both connectivities', async () => {
    const cases = perAxisLatticeArb().chain((l) => fc.record({ l: fc.constant(l), start: cellArb(l.shape), end: cellArb(l.shape), connectivity: connectivityArb }));
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, start, end, connectivity }) => {
        const lattice = resolveLattice(l.spec);
        const label = JSON.stringify({ l: l.spec, start, end, connectivity });
        const neighbours = neighboursUnder(connectivity);
        const { memory_bytes: _m, ...components } = await pool.run('components', l.spec, { connectivity });
        expect(components, label).toEqual(refComponents(lattice, neighbours));
        const s = refIndex(lattice, start);
        const e = refIndex(lattice, end);
        const expected = refShortestPathLength(lattice, s, e, neighbours);
        const path = await pool.run('shortest_path', l.spec, { start, end, connectivity });
        expect(path.length, label).toBe(expected);
        if (expected !== null) expect(refPathProblem(lattice, path.path, s, e, neighbours), label).toBeNull();
        const pairs = await pool.run('shortest_path', l.spec, { pairs: [{ start, end }], connectivity });
        expect(pairs.pairs![0]!.length, label).toBe(expected);
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it('distance_field and min_cost_path', async () => {
    const cases = perAxisLatticeArb().chain((l) =>
      fc.record({ l: fc.constant(l), start: cellArb(l.shape), end: cellArb(l.shape), connectivity: connectivityArb, max: fc.integer({ min: 1, max: 9 }), seed: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, start, end, connectivity, max, seed }) => {
        const lattice = resolveLattice(l.spec);
        const label = JSON.stringify({ l: l.spec, start, end, connectivity });
        const s = refIndex(lattice, start);
        const e = refIndex(lattice, end);
        const distance = refDistances(lattice, [s], connectivity, true);
        const field = await pool.run('distance_field', l.spec, { sources: [start], connectivity });
        const reached = distance.filter((d) => d >= 0);
        expect({ reached: field.reached, max: field.max }, label).toEqual({ reached: reached.length, max: Math.max(...reached) });
        const costs = refCosts(lattice, max, seed, [s, e]);
        const cheapest = await pool.run('min_cost_path', l.spec, { start, end, costs: { max, seed }, connectivity });
        expect(cheapest.cost, label).toBe(refMinCost(lattice, costs, s, e, connectivity));
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it('diffusion, on one and two slab threads', async () => {
    const cases = perAxisLatticeArb().chain((l) =>
      fc.record({
        l: fc.constant(l),
        steps: fc.integer({ min: 1, max: 8 }),
        cell: cellArb(l.shape),
      }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, steps, cell }) => {
        const params = { steps, alpha: 1 / (2 * l.shape.length + 1), initial: [{ cell, value: 100 }] };
        const job = resolveJob('diffusion', l.spec, params);
        const field = refDiffusion(job.lattice, job.params);
        const blocked = refBlocked(job.lattice, [job.params.initial[0]!.index]);
        const open = Array.from(field).filter((_, i) => blocked[i] === 0);
        for (const threads of [1, 2]) {
          const result = await pool.run('diffusion', l.spec, params, { threads });
          const label = `${JSON.stringify({ l: l.spec, params })} threads ${threads}`;
          expect(Math.abs(result.max - Math.max(...open)), label).toBeLessThan(1e-3);
          expect(Math.abs(result.min - Math.min(...open)), label).toBeLessThan(1e-3);
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('percolation agrees with components jobs at its densities', async () => {
    const cases = perAxisLatticeArb().chain((l) => fc.record({ l: fc.constant(l), seed: fc.nat(), points: fc.integer({ min: 2, max: 6 }) }));
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, seed, points }) => {
        const spec = { shape: l.shape, boundary: l.spec.boundary };
        const result = await pool.run('percolation', spec, { seed, points });
        for (const point of result.points) {
          const lattice = resolveLattice({ ...spec, obstacles: { density: point.density, seed } });
          const expected = refComponents(lattice);
          expect({ largest: point.largest, spans: point.spans_axis0 }, JSON.stringify({ spec, seed, density: point.density })).toEqual({ largest: expected.largest, spans: expected.spans_axis0 });
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
