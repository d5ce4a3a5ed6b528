/**
 * Paths as cell indices (shared/lattice/cell-path.ts), as a worker's results hold them until they
 * are written: on many random lattices the result's JSON written from the cells is the very text
 * `JSON.stringify` writes for the coordinate lists the pool answers otherwise, the `path`
 * artefact's rows are those coordinates, and the paths pass the reference check. A path of about
 * 10^6 cells on a serpentine map is written the same way.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringifyWithPaths } from '../../shared/jobs/result-json.ts';
import { CellPath } from '../../shared/lattice/cell-path.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { KernelType, LatticeSpecInput } from '../../shared/lattice/types.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { cellArb, smallLatticeArb, type SmallLattice } from '../lattice/arbitraries.ts';
import { refCoords, refIndex, refPathProblem, refShortestPathLength } from '../lattice/reference.ts';
import { serpentineMap } from '../support/serpentine-map.ts';

const pool = new KernelPool({ threads: 2 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

/** Lattices of up to ~2·10^5 cells in 1 to 3 axes (indices of 1 to 6 digits). */
const mediumLatticeArb: fc.Arbitrary<SmallLattice> = fc
  .integer({ min: 1, max: 3 })
  .chain((d) =>
    fc.tuple(
      fc.array(fc.integer({ min: 1, max: [0, 200_000, 450, 58][d]! }), { minLength: d, maxLength: d }),
      fc.constantFrom('open' as const, 'periodic' as const),
      fc.double({ min: 0, max: 0.35, noNaN: true }),
      fc.nat(),
    ),
  )
  .map(([shape, boundary, density, seed]) => ({ spec: { shape, boundary, obstacles: { density, seed } } as LatticeSpecInput, shape }));

/** The `path` artefact's rows as worker/job-artefacts.ts made them from coordinate lists. */
function rowsOf(path: readonly number[][]): Uint32Array {
  const d = path[0]?.length ?? 0;
  const rows = new Uint32Array(path.length * d);
  path.forEach((cell, k) => rows.set(cell, k * d));
  return rows;
}

/** Runs a job both ways and checks the cells' JSON, rows and reference path against the coordinates. */
async function checkBothWays(type: KernelType, lattice: SmallLattice, params: Record<string, unknown>, options: { threads?: number; strategy?: 'auto' | 'bfs' } = {}): Promise<void> {
  const where = `${type} ${JSON.stringify({ lattice, params, options })}`;
  const cells = (await pool.run(type, lattice.spec, params, { ...options, pathCells: true })) as unknown as Record<string, unknown>;
  const resolved = resolveLattice(lattice.spec);
  // The reference's coordinates of every cell of a path: what the written text must list.
  const listOf = (path: unknown): number[][] => Array.from((path as CellPath).cells, (cell) => refCoords(resolved, cell));
  const pairs = cells['pairs'] as Array<Record<string, unknown>> | undefined;
  const listed = { ...cells, path: listOf(cells['path']), ...(pairs ? { pairs: pairs.map((pair) => ({ ...pair, path: listOf(pair['path']) })) } : {}) };
  const around = { id: 'x', result: listed, note: 'a "quoted" \u0001 string' };
  expect(stringifyWithPaths({ ...around, result: cells }), where).toBe(JSON.stringify(around));
  // One thread searches alike every time: the pool's coordinate lists are that very text too (two
  // slab threads may meet elsewhere, and count other visits, from one run to the next).
  if (options.threads !== 2) expect(JSON.stringify({ ...around, result: await pool.run(type, lattice.spec, params, options) }), where).toBe(JSON.stringify(around));
  const paths: Array<[unknown, number[][]]> = [[cells['path'], listed.path]];
  pairs?.forEach((pair, i) => paths.push([pair['path'], listed.pairs![i]!.path]));
  for (const [cellPath, list] of paths) {
    expect(cellPath, where).toBeInstanceOf(CellPath);
    const path = cellPath as CellPath;
    expect(path.coordinates(), where).toEqual(list);
    expect([...path.coordinateRows()], where).toEqual([...rowsOf(list)]);
    // A pairs job opens every pair's cells (path-pairs.property.test.ts checks those paths).
    if (path.length > 0 && params['pairs'] === undefined) {
      const coordinates = path.coordinates();
      const start = refIndex(resolved, coordinates[0]!);
      const end = refIndex(resolved, coordinates[coordinates.length - 1]!);
      if (type === 'shortest_path' && params['connectivity'] !== 'full') expect(path.length - 1, where).toBe(refShortestPathLength(resolved, start, end));
      if (params['connectivity'] !== 'full') expect(refPathProblem(resolved, coordinates, start, end), where).toBeNull();
    }
  }
}

describe('paths as cell indices', () => {
  it('write the same JSON and artefact rows as coordinate lists, on small random lattices', async () => {
    const cases = smallLatticeArb().chain((l) =>
      fc.record({
        l: fc.constant(l),
        start: cellArb(l.shape),
        end: cellArb(l.shape),
        more: fc.array(fc.record({ start: cellArb(l.shape), end: cellArb(l.shape) }), { minLength: 1, maxLength: 3 }),
        connectivity: fc.constantFrom('axis' as const, 'full' as const),
        max: fc.integer({ min: 1, max: 255 }),
        seed: fc.nat(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, start, end, more, connectivity, max, seed }) => {
        await checkBothWays('shortest_path', l, { start, end, connectivity });
        await checkBothWays('shortest_path', l, { pairs: [{ start, end }, ...more], connectivity });
        await checkBothWays('min_cost_path', l, { start, end, connectivity, costs: { max, seed } });
      }),
      { numRuns: 300 },
    );
  }, 300_000);

  it('write the same JSON and artefact rows as coordinate lists, on random lattices of up to 2·10^5 cells, every search', async () => {
    const cases = mediumLatticeArb.chain((l) => fc.record({ l: fc.constant(l), start: cellArb(l.shape), end: cellArb(l.shape) }));
    await fc.assert(
      fc.asyncProperty(cases, async ({ l, start, end }) => {
        for (const options of [{ threads: 1 }, { threads: 2, strategy: 'bfs' as const }, { threads: 1, strategy: 'bfs' as const }]) {
          await checkBothWays('shortest_path', l, { start, end }, options);
        }
        await checkBothWays('min_cost_path', l, { start, end, costs: { max: 7, seed: 1 } });
      }),
      { numRuns: 25 },
    );
  }, 300_000);

  it('write a path of about 10^6 cells on a serpentine the same way', async () => {
    const shape = [1997, 1000];
    const map = serpentineMap(shape);
    const spec = { shape, obstacles: { map: '00000000-0000-0000-0000-000000000000' } };
    const result = (await pool.run('shortest_path', spec, { start: [0, 0], end: [1996, 999] }, { obstacleMap: map, pathCells: true })) as unknown as Record<string, unknown>;
    const path = result['path'] as CellPath;
    // 999 rows of 1,000 cells and the 998 gaps between them.
    expect(path.length).toBe(999 * 1000 + 998);
    expect(result['length']).toBe(path.length - 1);
    const coordinates = path.coordinates();
    expect(stringifyWithPaths(result)).toBe(JSON.stringify({ ...result, path: coordinates }));
    const lattice = resolveLattice(spec, map);
    expect(refPathProblem(lattice, coordinates, 0, lattice.cells - 1)).toBeNull();
    expect([...path.coordinateRows().subarray(0, 6)]).toEqual([0, 0, 0, 1, 0, 2]);
  }, 120_000);

  it('leaves values without paths, and strings that look like its marks, as JSON.stringify writes them', () => {
    const value = { a: [1, 'x'], s: '\u0001cell-path-00000000-0000-0000-0000-000000000000-0', t: '"\\u0001"', n: null, u: undefined };
    expect(stringifyWithPaths(value)).toBe(JSON.stringify(value));
    const path = new CellPath(Uint32Array.of(0, 5, 11, 119), [4, 5, 6]);
    const withPath = { p: path, again: [path], s: value.s };
    expect(stringifyWithPaths(withPath)).toBe(JSON.stringify({ p: path.coordinates(), again: [path.coordinates()], s: value.s }));
    expect(new CellPath(new Uint32Array(0), [3]).json()).toBe('[]');
    expect(new CellPath(Uint32Array.of(1_999_999, 0, 10), [2_000_000]).json()).toBe('[[1999999],[0],[10]]');
  });
});
