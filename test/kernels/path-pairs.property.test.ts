/** shortest_path with many pairs against a plain BFS per pair, on random small lattices. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { cellArb, smallLatticeArb } from '../lattice/arbitraries.ts';
import { refBlocked, refIndex, refNeighbours } from '../lattice/reference.ts';

const pool = new KernelPool({ threads: 1 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

/** Steps from start to end by BFS with `blocked` as given, or null. */
function bfsLength(lattice: Lattice, blocked: Uint8Array, start: number, end: number): number | null {
  const distance = new Map<number, number>([[start, 0]]);
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const cell = queue[head]!;
    if (cell === end) return distance.get(cell)!;
    for (const next of refNeighbours(lattice, cell)) {
      if (!blocked[next] && !distance.has(next)) {
        distance.set(next, distance.get(cell)! + 1);
        queue.push(next);
      }
    }
  }
  return null;
}

describe('shortest_path with pairs', () => {
  it('answers every pair as a BFS does, with valid paths, every pair\'s cells open', async () => {
    const cases = smallLatticeArb().chain((l) =>
      fc.record({
        l: fc.constant(l),
        // A few starts, each shared by a few pairs.
        groups: fc.array(fc.record({ start: cellArb(l.shape), ends: fc.array(cellArb(l.shape), { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 3 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, groups }) => {
        const lattice = resolveLattice(l.spec);
        const pairs = groups.flatMap((g) => g.ends.map((end) => ({ start: g.start, end })));
        const blocked = refBlocked(lattice, pairs.flatMap((p) => [refIndex(lattice, p.start), refIndex(lattice, p.end)]));
        const result = await pool.run('shortest_path', l.spec, { pairs });
        const label = JSON.stringify({ spec: l.spec, pairs });
        expect(result.pairs, label).toHaveLength(pairs.length);
        pairs.forEach((pair, i) => {
          const got = result.pairs![i]!;
          const start = refIndex(lattice, pair.start);
          const end = refIndex(lattice, pair.end);
          const expected = bfsLength(lattice, blocked, start, end);
          expect(got.length, `${label} pair ${i}`).toBe(expected);
          expect(got.reachable).toBe(expected !== null);
          if (expected === null) return;
          const cells = got.path.map((c) => refIndex(lattice, c));
          expect(cells).toHaveLength(expected + 1);
          expect(cells[0]).toBe(start);
          expect(cells[cells.length - 1]).toBe(end);
          for (let k = 1; k < cells.length; k++) {
            expect(blocked[cells[k]!]).toBe(0);
            expect(refNeighbours(lattice, cells[k - 1]!), `${label} pair ${i} step ${k}`).toContain(cells[k]);
          }
        });
        expect(result.reachable).toBe(result.pairs!.every((p) => p.reachable));
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('refuses pairs beside start and end, and more than 1,000 pairs', async () => {
    await expect(pool.run('shortest_path', { shape: [4, 4] }, { start: [0, 0], end: [1, 1], pairs: [{ start: [0, 0], end: [3, 3] }] })).rejects.toMatchObject({ code: 'params_invalid' });
    const many = Array.from({ length: 1001 }, () => ({ start: [0, 0], end: [3, 3] }));
    await expect(pool.run('shortest_path', { shape: [4, 4] }, { pairs: many })).rejects.toMatchObject({ code: 'params_invalid' });
    await expect(pool.run('shortest_path', { shape: [4, 4] }, { pairs: [{ start: [0, 0], end: [4, 0] }] })).rejects.toMatchObject({ code: 'cell_out_of_bounds', field: 'params.pairs[0].end[0]' });
  });
});
