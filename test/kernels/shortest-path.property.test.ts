/**
 * shortest_path against the reference BFS on thousands of random small lattices: the same
 * length, a valid path, the same answer with 1, 2 and 4 slab threads and with or without the
 * lower-bound dive (on two threads, the dive in side 0 while side 1 searches).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveJob } from '../../shared/lattice/job.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import type { KernelRunOptions } from '../../worker/kernels/kernel-run.ts';
import { pathCaseArb } from '../lattice/arbitraries.ts';
import { refPathProblem, refShortestPathLength } from '../lattice/reference.ts';

const pool = new KernelPool({ threads: 4 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

const VARIANTS: KernelRunOptions[] = [
  { strategy: 'auto', threads: 1 },
  // Two sides, side 0 diving first while side 1 searches (two-sided-search.ts).
  { strategy: 'auto', threads: 2 },
  { strategy: 'bfs', threads: 1 },
  { strategy: 'bfs', threads: 2 },
  { strategy: 'bfs', threads: 4 },
];

describe('shortest_path', () => {
  it('finds a valid path of the reference length, whatever the threads or strategy', async () => {
    let lattices = 0;
    await fc.assert(
      fc.asyncProperty(pathCaseArb(), async ({ spec, start, end }) => {
        lattices++;
        const { lattice, params } = resolveJob('shortest_path', spec, { start, end });
        const expected = refShortestPathLength(lattice, params.start, params.end);
        for (const variant of VARIANTS) {
          const result = await pool.run('shortest_path', spec, { start, end }, variant);
          const where = `${JSON.stringify(spec)} ${JSON.stringify({ start, end, ...variant })}`;
          expect(result.length, where).toBe(expected);
          expect(result.reachable, where).toBe(expected !== null);
          if (expected === null) {
            expect(result.path, where).toEqual([]);
          } else {
            expect(refPathProblem(lattice, result.path, params.start, params.end), where).toBeNull();
            expect(result.path.length - 1, where).toBe(expected);
          }
          expect(result.memory_bytes, where).toBeGreaterThan(0);
          expect(result.visited, where).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1200 },
    );
    expect(lattices).toBeGreaterThanOrEqual(1200);
  }, 120_000);

  it('reports an unreachable end as a result', async () => {
    // A wall of blocked cells across axis 0 cuts the lattice in two.
    const blocked = Array.from({ length: 6 }, (_, x) => [3, x]);
    const spec = { shape: [7, 6], obstacles: { blocked } };
    for (const variant of VARIANTS) {
      expect(await pool.run('shortest_path', spec, { start: [0, 0], end: [6, 5] }, variant)).toMatchObject({
        reachable: false,
        length: null,
        path: [],
      });
    }
  });

  it('keeps start and end open even when the obstacles block them', async () => {
    const spec = { shape: [3, 3], obstacles: { blocked: [[0, 0], [2, 2]] } };
    expect(await pool.run('shortest_path', spec, { start: [0, 0], end: [2, 2] })).toMatchObject({ reachable: true, length: 4 });
    expect(await pool.run('shortest_path', spec, { start: [1, 1], end: [1, 1] })).toMatchObject({
      reachable: true,
      length: 0,
      path: [[1, 1]],
    });
  });

  it('wraps around periodic axes', async () => {
    const spec = { shape: [10, 10], boundary: 'periodic' as const };
    const result = await pool.run('shortest_path', spec, { start: [0, 0], end: [9, 9] }, { strategy: 'bfs', threads: 2 });
    expect(result.length).toBe(2);
  });
});
