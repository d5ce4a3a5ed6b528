/**
 * components and shortest_path with `connectivity: full` (3^d − 1 neighbours) against plain
 * references on random small lattices: union-find and a one-sided BFS over neighbours taken from
 * coordinates (every move in {−1, 0, 1}^d, wrapped on a periodic axis), and the labels the
 * artefact pass writes against the reference's clusters. Components run in 1, 2 and 4 slabs (the
 * run labelling's diagonal joins and face merge).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { floodComponents } from '../../worker/kernels/flood-components.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { cellArb, pathCaseArb, smallLatticeArb } from '../lattice/arbitraries.ts';
import { refBlocked, refComponents, refIndex, refPathProblem, refShortestPathLength } from '../lattice/reference.ts';
import { refNeighboursWith } from '../lattice/reference-fields.ts';

const pool = new KernelPool({ threads: 4 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

const full = (lattice: Lattice, index: number): number[] => refNeighboursWith(lattice, index, 'full');

describe('connectivity full', () => {
  it('components: count, largest, histogram and spanning match union-find over the 3^d − 1 neighbours, in 1, 2 and 4 slabs', async () => {
    await fc.assert(
      fc.asyncProperty(smallLatticeArb(), async (l) => {
        const lattice = resolveLattice(l.spec);
        const expected = refComponents(lattice, full);
        for (const threads of [1, 2, 4]) {
          const { result, stats } = await pool.runDetailed('components', l.spec, { connectivity: 'full' }, { threads });
          const { memory_bytes, ...counts } = result;
          expect(counts, `${JSON.stringify(l.spec)} threads ${threads}`).toEqual(expected);
          expect(memory_bytes).toBeGreaterThan(0);
          // Two or more axes label by runs in slabs; one axis has no diagonals and floods.
          expect(stats.method).toBe(lattice.shape.length > 1 ? 'components' : 'flood');
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('components: long lines (runs crossing 32-cell words) near the diagonal threshold, in 1, 2 and 4 slabs', async () => {
    const cases = fc.record({
      shape: fc.oneof(
        fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 20, max: 100 })),
        fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 28, max: 70 })),
      ),
      boundary: fc.constantFrom('open' as const, 'periodic' as const),
      density: fc.double({ min: 0.3, max: 0.85, noNaN: true }),
      seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ shape, boundary, density, seed }) => {
        const spec = { shape, boundary, obstacles: { density, seed } };
        const expected = refComponents(resolveLattice(spec), full);
        for (const threads of [1, 2, 4]) {
          const { memory_bytes, ...counts } = await pool.run('components', spec, { connectivity: 'full' }, { threads });
          expect(counts, `${JSON.stringify(spec)} threads ${threads}`).toEqual(expected);
          expect(memory_bytes).toBeGreaterThan(0);
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it('components: the flood fill with axis neighbours agrees with the axis reference too', () => {
    fc.assert(
      fc.property(smallLatticeArb(), (l) => {
        const lattice = resolveLattice(l.spec);
        expect(floodComponents(lattice, 'axis', null).result, JSON.stringify(l.spec)).toEqual(refComponents(lattice));
      }),
      { numRuns: 200 },
    );
  });

  it('labels: clusters numbered by their smallest cell, one label per reference cluster', () => {
    fc.assert(
      fc.property(smallLatticeArb(), (l) => {
        const lattice = resolveLattice(l.spec);
        const out = { labels: new Uint32Array(lattice.cells), sizes: [] as number[] };
        floodComponents(lattice, 'full', null, out);
        const blocked = refBlocked(lattice);
        let seen = 0;
        const problems: string[] = [];
        const counted = new Array<number>(out.sizes.length).fill(0);
        for (let i = 0; i < lattice.cells; i++) {
          const label = out.labels[i]!;
          if (blocked[i]) {
            if (label !== 0) problems.push(`blocked ${i} has label ${label}`);
            continue;
          }
          // A new label appears exactly when a cluster's smallest cell is met.
          if (label > seen && label !== ++seen) problems.push(`cell ${i} opens label ${label}, not ${seen}`);
          counted[label - 1]!++;
          for (const j of full(lattice, i)) if (!blocked[j] && out.labels[j] !== label) problems.push(`neighbours ${i} and ${j} differ`);
        }
        expect(problems, JSON.stringify(l.spec)).toEqual([]);
        expect(counted).toEqual(out.sizes);
        expect(out.sizes).toHaveLength(refComponents(lattice, full).count);
      }),
      { numRuns: 200 },
    );
  });

  it('shortest_path: the length a BFS over diagonal steps finds, with a valid path', async () => {
    await fc.assert(
      fc.asyncProperty(pathCaseArb(), async (c) => {
        const lattice = resolveLattice(c.spec);
        const start = refIndex(lattice, c.start);
        const end = refIndex(lattice, c.end);
        const expected = refShortestPathLength(lattice, start, end, full);
        const label = JSON.stringify(c);
        const result = await pool.run('shortest_path', c.spec, { start: c.start, end: c.end, connectivity: 'full' });
        expect(result.length, label).toBe(expected);
        expect(result.reachable).toBe(expected !== null);
        expect(result.pairs).toBeUndefined();
        if (expected === null) expect(result.path).toEqual([]);
        else expect(refPathProblem(lattice, result.path, start, end, full), label).toBeNull();
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('shortest_path pairs: each pair as the BFS over diagonal steps answers it', async () => {
    const cases = smallLatticeArb().chain((l) =>
      fc.record({ l: fc.constant(l), pairs: fc.array(fc.record({ start: cellArb(l.shape), end: cellArb(l.shape) }), { minLength: 1, maxLength: 5 }) }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, pairs }) => {
        const lattice = resolveLattice(l.spec);
        const result = await pool.run('shortest_path', l.spec, { pairs, connectivity: 'full' });
        // Every pair's cells are open in a many-pairs job, so the reference opens them all.
        const own = pairs.flatMap((p) => [refIndex(lattice, p.start), refIndex(lattice, p.end)]);
        const opened: Lattice = { ...lattice, obstacles: { kind: 'explicit', blocked: Float64Array.from([...refBlocked(lattice, own).entries()].filter(([, b]) => b).map(([i]) => i)) } };
        pairs.forEach((pair, i) => {
          const start = refIndex(lattice, pair.start);
          const end = refIndex(lattice, pair.end);
          const expected = refShortestPathLength(opened, start, end, full);
          const got = result.pairs![i]!;
          expect(got.length, JSON.stringify({ spec: l.spec, pairs, i })).toBe(expected);
          if (expected !== null) expect(refPathProblem(opened, got.path, start, end, full)).toBeNull();
        });
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('a diagonal step costs one: corner to corner of an open 5×5×5 cube is 4 steps', async () => {
    const result = await pool.run('shortest_path', { shape: [5, 5, 5] }, { start: [0, 0, 0], end: [4, 4, 4], connectivity: 'full' });
    expect(result).toMatchObject({ reachable: true, length: 4 });
    const axis = await pool.run('shortest_path', { shape: [5, 5, 5] }, { start: [0, 0, 0], end: [4, 4, 4] });
    expect(axis.length).toBe(12);
    // A checkerboard has no two open cells side by side, but diagonals join all of them.
    const blocked: number[][] = [];
    for (let x = 0; x < 6; x++) for (let y = 0; y < 6; y++) if ((x + y) % 2 === 1) blocked.push([x, y]);
    const board = { shape: [6, 6], obstacles: { blocked } };
    expect(await pool.run('components', board, { connectivity: 'full' })).toMatchObject({ count: 1, largest: 18, spans_axis0: true });
    expect(await pool.run('components', board, {})).toMatchObject({ count: 18, largest: 1, spans_axis0: false });
  });
});
