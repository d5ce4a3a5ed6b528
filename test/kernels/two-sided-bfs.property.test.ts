/**
 * The two-thread search (two-sided-bfs.ts) against the reference BFS on random small lattices
 * (1-6 dimensions, open and periodic, procedural, explicit, map and no obstacles, start = end,
 * unreachable ends): same length, valid path. Two ways: both sides in this thread, stepped in a
 * random order a few cells at a time (the skews two threads can produce, one side far ahead of
 * the other, drive the meeting rule), and the real thing, two kernel threads of a pool. Plain
 * claims (no compare-exchange while the sides are far apart) are checked for the bytes each side
 * touches.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordsOf, neighboursOf, stepLowerBound } from '../../shared/lattice/geometry.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { TWO_SIDED_MIN_CELLS, twoSidedBfsInterleaved } from '../../worker/kernels/two-sided-bfs.ts';
import { TWO_SIDED_BRICK_MIN_CELLS } from '../../worker/kernels/two-sided-bricks.ts';
import { cellArb, crowdedPathCaseArb, pathCaseArb } from '../lattice/arbitraries.ts';
import { refPathProblem, refShortestPathLength } from '../lattice/reference.ts';
import { check, picker, scheduleArb } from './two-sided-schedules.ts';

/** A 2-D or 3-D lattice with an uploaded obstacle map (random bits) and two ends. */
const mapCaseArb = fc
  .oneof(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 })), fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })))
  .chain((shape) => {
    const cells = shape.reduce((p: number, s: number) => p * s, 1);
    return fc.record({
      shape: fc.constant(shape as number[]),
      boundary: fc.constantFrom('open' as const, 'periodic' as const),
      bits: fc.uint8Array({ minLength: Math.ceil(cells / 8), maxLength: Math.ceil(cells / 8) }).map((bytes) => bytes.map((b, i) => b & (i % 3 === 0 ? 0x55 : 0x91))),
      start: cellArb(shape),
      end: cellArb(shape),
    });
  });

describe('two-thread search, both sides stepped in this thread', () => {
  it('matches the reference on random lattices and random interleavings', () => {
    fc.assert(
      fc.property(pathCaseArb(), scheduleArb, ({ spec, start, end }, schedule) => {
        const { lattice, params } = resolveJob('shortest_path', spec, { start, end });
        const outcome = twoSidedBfsInterleaved(lattice, params.start, params.end, picker(schedule), schedule.chunk);
        check(lattice, params.start, params.end, outcome, JSON.stringify({ spec, start, end, schedule }));
      }),
      { numRuns: 2500 },
    );
  });

  it('matches the reference with uploaded obstacle maps', () => {
    fc.assert(
      fc.property(mapCaseArb, scheduleArb, ({ shape, boundary, bits, start, end }, schedule) => {
        const spec = { shape, boundary, obstacles: { map: '00000000-0000-4000-8000-000000000000' } };
        const { lattice, params } = resolveJob('shortest_path', spec, { start, end }, bits);
        const outcome = twoSidedBfsInterleaved(lattice, params.start, params.end, picker(schedule), schedule.chunk);
        check(lattice, params.start, params.end, outcome, JSON.stringify({ shape, boundary, start, end, schedule }));
      }),
      { numRuns: 600 },
    );
  });

  it('claims plainly only where the other side never reads or writes a byte, and compare-exchanges only once both sides stopped plain claims', () => {
    // Interleaved chunks stand for chunks two threads may run at once: the bytes (two cells
    // each) any chunk of one side read or wrote while claiming plainly must be bytes no plain
    // chunk of the other side touches, and a side claims by compare-exchange only once the
    // other side has stopped plain claims (or searching): then no plain store races another store.
    const chunks = { plain: 0, exchange: 0 };
    const tileShiftArb = fc.constantFrom(1, 2, 3);
    fc.assert(
      fc.property(fc.oneof(pathCaseArb(), mapCaseArb.map(({ shape, boundary, bits, start, end }) => ({ spec: { shape, boundary, obstacles: { map: '00000000-0000-4000-8000-000000000000' } }, start, end, bits }))), scheduleArb, tileShiftArb, (input, schedule, tileShift) => {
        const bits = 'bits' in input ? input.bits : undefined;
        const { lattice, params } = resolveJob('shortest_path', input.spec, { start: input.start, end: input.end }, bits);
        const where = JSON.stringify({ spec: input.spec, start: input.start, end: input.end, schedule, tileShift });
        const touched = [new Set<number>(), new Set<number>()];
        const onChunk = (side: 0 | 1, cells: Int32Array, plain: boolean, otherExchanges: boolean): void => {
          if (!plain) {
            chunks.exchange++;
            expect(otherExchanges, `side ${side} claims by compare-exchange while the other may claim plainly: ${where}`).toBe(true);
            return;
          }
          chunks.plain++;
          for (const cell of cells) {
            for (const nb of neighboursOf(lattice, cell)) {
              const byte = nb >>> 1;
              expect(touched[1 - side]!.has(byte), `byte ${byte} (cell ${nb}) touched plainly by both sides: ${where}`).toBe(false);
              touched[side]!.add(byte);
            }
          }
        };
        const outcome = twoSidedBfsInterleaved(lattice, params.start, params.end, picker(schedule), schedule.chunk, tileShift, onChunk);
        check(lattice, params.start, params.end, outcome, where);
      }),
      { numRuns: 1500 },
    );
    // Both kinds of chunk ran: the property held over plain claims, not around them.
    expect(chunks.plain).toBeGreaterThan(1000);
    expect(chunks.exchange).toBeGreaterThan(1000);
  });

  it('finds the shortest path on larger hard lattices whatever the skew', () => {
    for (const [shape, density] of [
      [[120, 130], 0.4],
      [[30, 31, 32], 0.6],
    ] as const) {
      for (const bias of [0.5, 0.02, 0.98]) {
        for (const tileShift of [null, 2, 4]) {
          const spec = { shape: [...shape], obstacles: { density, seed: 11 } };
          const { lattice, params } = resolveJob('shortest_path', spec, { start: shape.map(() => 0), end: shape.map((side) => side - 1) });
          const outcome = twoSidedBfsInterleaved(lattice, params.start, params.end, picker({ seed: 5, bias }), 3, tileShift);
          check(lattice, params.start, params.end, outcome, JSON.stringify({ shape, density, bias, tileShift }));
        }
      }
    }
  });
});

describe('two-thread search in two kernel threads', () => {
  const pool = new KernelPool({ threads: 2 });
  beforeAll(() => pool.start());
  afterAll(() => pool.close());

  it('matches the reference on random lattices', async () => {
    await fc.assert(
      fc.asyncProperty(pathCaseArb(), async ({ spec, start, end }) => {
        const { lattice, params } = resolveJob('shortest_path', spec, { start, end });
        const outcome = await pool.runDetailed('shortest_path', spec, { start, end }, { threads: 2, strategy: 'bfs' });
        const result = outcome.result as { length: number | null; path: number[][] | null };
        const where = JSON.stringify({ spec, start, end });
        expect(result.length, where).toBe(refShortestPathLength(lattice, params.start, params.end));
        if (params.start !== params.end && lattice.shape[0]! > 1) {
          expect(outcome.stats.threads, where).toBe(2);
          expect(outcome.stats.method, where).toBe('bfs');
        }
        if (result.length !== null) expect(refPathProblem(lattice, result.path!, params.start, params.end), where).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('dives alone, then in side 0 while side 1 searches: a dive answers when it finds a lower-bound path, else the search, all right', async () => {
    // A first dive of half a cell a step cannot reach the end: the dives that find a path go on in side 0.
    const quick = new KernelPool({ threads: 2, quickDiveBudgetPerStep: 0.5 });
    await quick.start();
    const answered = { alone: 0, side0: 0, search: 0 };
    try {
    await fc.assert(
      fc.asyncProperty(fc.oneof(pathCaseArb(), crowdedPathCaseArb()), async ({ spec, start, end }) => {
        const { lattice, params } = resolveJob('shortest_path', spec, { start, end });
        if (params.start === params.end || lattice.shape[0]! < 2) return;
        const outcome = await quick.runDetailed('shortest_path', spec, { start, end }, { threads: 2, strategy: 'auto' });
        const result = outcome.result as { length: number | null; path: number[][] | null };
        const where = JSON.stringify({ spec, start, end });
        expect(result.length, where).toBe(refShortestPathLength(lattice, params.start, params.end));
        const { method, threads } = outcome.stats;
        const kind = method === 'dive' ? (threads === 1 ? 'alone' : 'side0') : method === 'bfs' && threads === 2 ? 'search' : null;
        expect(kind, `${where} ${method} ${threads}`).not.toBeNull();
        answered[kind!]++;
        // A dive only answers with a path of lower-bound length.
        if (method === 'dive') expect(result.path!.length - 1, where).toBe(stepLowerBound(lattice, coordsOf(lattice, params.start), coordsOf(lattice, params.end)));
        if (result.length !== null) expect(refPathProblem(lattice, result.path!, params.start, params.end), where).toBeNull();
      }),
      { numRuns: 400 },
    );
    } finally {
      await quick.close();
    }
    expect(answered.alone).toBe(0);
    expect(answered.side0).toBeGreaterThan(100);
    expect(answered.search).toBeGreaterThan(30);
  });

  it('on its own from TWO_SIDED_MIN_CELLS, lets the short dive answer an easy lattice alone and the two sides a hard one', async () => {
    const side = Math.ceil(Math.sqrt(TWO_SIDED_MIN_CELLS));
    const params = { start: [0, 0], end: [side - 1, side - 1] };
    const easy = await pool.runDetailed('shortest_path', { shape: [side, side], obstacles: { density: 0.05, seed: 7 } }, params);
    const hard = await pool.runDetailed('shortest_path', { shape: [side, side], obstacles: { density: 0.4, seed: 7 } }, params);
    expect([easy.stats.threads, easy.stats.method, (easy.result as { length: number }).length]).toEqual([1, 'dive', 2 * (side - 1)]);
    expect([hard.stats.threads, hard.stats.method]).toEqual([2, 'bfs']);
    const one = await pool.runDetailed('shortest_path', { shape: [side, side], obstacles: { density: 0.4, seed: 7 } }, params, { threads: 1 });
    expect((hard.result as { length: number }).length).toBe((one.result as { length: number }).length);
  });

  it('keeps one thread just below TWO_SIDED_MIN_CELLS on its own, 2-D and 3-D', async () => {
    const side2 = Math.floor(Math.sqrt(TWO_SIDED_MIN_CELLS - 1));
    const side3 = Math.floor(Math.cbrt(TWO_SIDED_MIN_CELLS - 1));
    for (const shape of [[side2, side2], [side3, side3, side3]]) {
      const end = shape.map((s) => s - 1);
      const below = await pool.runDetailed('shortest_path', { shape, obstacles: { density: 0.4, seed: 7 } }, { start: shape.map(() => 0), end }, { strategy: 'bfs' });
      expect(below.stats.threads, JSON.stringify(shape)).toBe(1);
    }
  });

  it('takes both threads on its own from TWO_SIDED_MIN_CELLS in 3-D rows, open or periodic, below the bricks', async () => {
    const side = Math.ceil(Math.cbrt(TWO_SIDED_MIN_CELLS));
    expect(side ** 3).toBeLessThan(TWO_SIDED_BRICK_MIN_CELLS);
    for (const boundary of ['open', 'periodic'] as const) {
      const spec = { shape: [side, side, side], boundary, obstacles: { density: 0.3, seed: 7 } };
      const params = { start: [0, 0, 0], end: [side - 1, side - 1, side - 1] };
      const auto = await pool.runDetailed('shortest_path', spec, params, { strategy: 'bfs' });
      const one = await pool.runDetailed('shortest_path', spec, params, { strategy: 'bfs', threads: 1 });
      expect([auto.stats.threads, auto.stats.layout, one.stats.threads], boundary).toEqual([2, 'rows', 1]);
      expect((auto.result as { length: number | null }).length, boundary).toBe((one.result as { length: number | null }).length);
    }
  });

  it('takes both threads on its own from TWO_SIDED_MIN_CELLS, with the one-thread search answering the same', async () => {
    const spec = { shape: [2900, 2900], obstacles: { density: 0.4, seed: 7 } };
    const params = { start: [0, 0], end: [2899, 2899] };
    const auto = await pool.runDetailed('shortest_path', spec, params, { strategy: 'bfs' });
    const one = await pool.runDetailed('shortest_path', spec, params, { strategy: 'bfs', threads: 1 });
    expect(auto.stats.threads).toBe(2);
    expect(one.stats.threads).toBe(1);
    expect((auto.result as { length: number | null }).length).toBe((one.result as { length: number | null }).length);
    // 4 bits per cell of shared state, and the frontier lists.
    const bits = (8 * (auto.result as { memory_bytes: number }).memory_bytes) / 2900 ** 2;
    expect(bits).toBeGreaterThan(4);
    expect(bits).toBeLessThan(5);
  });

  it('leaves lattices above twoSidedAutoMaxCells to the leaner one-thread search unless two threads are asked for', async () => {
    const capped = new KernelPool({ threads: 2, twoSidedAutoMaxCells: 2900 ** 2 - 1 });
    await capped.start();
    try {
      const spec = { shape: [2900, 2900], obstacles: { density: 0.4, seed: 7 } };
      const params = { start: [0, 0], end: [2899, 2899] };
      const auto = await capped.runDetailed('shortest_path', spec, params, { strategy: 'bfs' });
      const asked = await capped.runDetailed('shortest_path', spec, params, { strategy: 'bfs', threads: 2 });
      expect([auto.stats.threads, asked.stats.threads]).toEqual([1, 2]);
      expect((auto.result as { length: number | null }).length).toBe((asked.result as { length: number | null }).length);
      // The one-thread search's state: under 4 bits a cell.
      expect((8 * (auto.result as { memory_bytes: number }).memory_bytes) / 2900 ** 2).toBeLessThan(4);
    } finally {
      await capped.close();
    }
  });

  it('takes both threads on a 3-D lattice in bricks (two-sided-bricks.ts), and leaves a periodic one as large to the one-thread search', async () => {
    const side = Math.ceil(Math.cbrt(TWO_SIDED_BRICK_MIN_CELLS));
    const run = (boundary: 'open' | 'periodic') =>
      pool.runDetailed('shortest_path', { shape: [side, side, side], boundary, obstacles: { density: 0.3, seed: 7 } }, { start: [0, 0, 0], end: [side - 1, side - 1, side - 1] }, { strategy: 'bfs' });
    const open = await run('open');
    expect([open.stats.threads, open.stats.layout]).toEqual([2, 'bricks']);
    expect((await run('periodic')).stats.threads).toBe(1);
  });
});
