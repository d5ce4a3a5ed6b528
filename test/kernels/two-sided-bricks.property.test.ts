/**
 * The two-thread search in the brick layout (two-sided-bricks.ts) against the reference BFS on
 * random 3-D lattices forced into bricks (the padding bound lifted): shapes across several
 * bricks, every obstacle kind (procedural, explicit, an uploaded map, none), ends anywhere,
 * unreachable ends; same length, valid path. Two ways: both sides in this thread, stepped in a
 * random order a few cells at a time (the skews two threads can produce drive the meeting
 * rule), and the real thing, two kernel threads of a pool.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveJob } from '../../shared/lattice/job.ts';
import { BrickLayout } from '../../worker/kernels/brick-layout.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { twoSidedBricksInterleaved } from '../../worker/kernels/two-sided-bricks.ts';
import { cellArb } from '../lattice/arbitraries.ts';
import { refPathProblem, refShortestPathLength } from '../lattice/reference.ts';
import { asMap, brickCaseArb } from './brick-lattice-arbitraries.ts';
import { check, picker, scheduleArb } from './two-sided-schedules.ts';

const caseArb = brickCaseArb([22, 22, 30], 0.6);

describe('two-thread search in bricks, both sides stepped in this thread', () => {
  it('matches the reference on random 3-D lattices of every obstacle kind and random interleavings', () => {
    fc.assert(
      fc.property(caseArb, scheduleArb, ({ shape, obstacles, start, end, map }, schedule) => {
        const spec = obstacles === undefined ? { shape } : { shape, obstacles };
        const resolved = resolveJob('shortest_path', spec, { start, end });
        const lattice = map ? asMap(resolved.lattice) : resolved.lattice;
        const { start: from, end: to } = resolved.params;
        const outcome = twoSidedBricksInterleaved(lattice, from, to, picker(schedule), schedule.chunk);
        check(lattice, from, to, outcome, JSON.stringify({ spec, start, end, map, schedule }));
      }),
      { numRuns: 1500 },
    );
  }, 180_000);

  it('finds the shortest path on larger hard lattices whatever the skew', () => {
    for (const [shape, density] of [
      [[30, 31, 32], 0.6],
      [[17, 40, 9], 0.45],
    ] as const) {
      for (const bias of [0.5, 0.02, 0.98]) {
        const spec = { shape: [...shape], obstacles: { density, seed: 11 } };
        const { lattice, params } = resolveJob('shortest_path', spec, { start: shape.map(() => 0), end: shape.map((side) => side - 1) });
        const outcome = twoSidedBricksInterleaved(lattice, params.start, params.end, picker({ seed: 5, bias }), 3);
        check(lattice, params.start, params.end, outcome, JSON.stringify({ shape, density, bias }));
      }
    }
  });
});

describe('two-thread search in bricks in two kernel threads', () => {
  // Bricks from any size; a lattice whose padding would pass brick-padding.ts's bound keeps rows.
  const pool = new KernelPool({ threads: 2, twoSidedBrickMinCells: 0 });
  beforeAll(() => pool.start());
  afterAll(() => pool.close());

  /** Sides whose padding stays within the bound (at most 7% each), or any of 20 to 40; every obstacle kind but maps. */
  const sideArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(30, 38, 45, 46, 54, 62) }, { weight: 1, arbitrary: fc.integer({ min: 20, max: 40 }) });
  const poolCaseArb = fc
    .tuple(sideArb, sideArb, sideArb)
    .chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        obstacles: fc.oneof(
          { weight: 6, arbitrary: fc.record({ density: fc.double({ min: 0, max: 0.6, noNaN: true }), seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }) },
          { weight: 2, arbitrary: fc.record({ blocked: fc.array(cellArb(shape), { maxLength: 3000 }) }) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
        start: cellArb(shape),
        end: cellArb(shape),
      }),
    );

  it('matches the reference on random 3-D lattices', async () => {
    let inBricks = 0;
    await fc.assert(
      fc.asyncProperty(poolCaseArb, async ({ shape, obstacles, start, end }) => {
        const spec = obstacles === undefined ? { shape } : { shape, obstacles };
        const { lattice, params } = resolveJob('shortest_path', spec, { start, end });
        const outcome = await pool.runDetailed('shortest_path', spec, { start, end }, { threads: 2, strategy: 'bfs' });
        const result = outcome.result as { length: number | null; path: number[][] | null };
        const where = JSON.stringify({ spec, start, end });
        expect(result.length, where).toBe(refShortestPathLength(lattice, params.start, params.end));
        if (params.start !== params.end) {
          expect(outcome.stats.layout, where).toBe(BrickLayout.of(lattice) === null ? 'rows' : 'bricks');
          if (outcome.stats.layout === 'bricks') inBricks++;
        }
        if (result.length !== null) expect(refPathProblem(lattice, result.path!, params.start, params.end), where).toBeNull();
      }),
      { numRuns: 150 },
    );
    expect(inBricks).toBeGreaterThan(40);
  }, 180_000);

  it('stops within a second of a cancel on a lattice of 2·10^7 cells', async () => {
    const side = 272;
    const controller = new AbortController();
    const running = pool.run('shortest_path', { shape: [side, side, side], obstacles: { density: 0.3, seed: 3 } }, { start: [0, 0, 0], end: [side - 1, side - 1, side - 1] }, { threads: 2, strategy: 'bfs', signal: controller.signal });
    setTimeout(() => controller.abort(), 150);
    const aborted = performance.now() + 150;
    await expect(running).rejects.toMatchObject({ code: 'cancelled' });
    expect(performance.now() - aborted).toBeLessThan(1000);
  }, 60_000);
});
