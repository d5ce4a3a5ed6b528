/**
 * The Dial's search engines and the class rows they step by, in the thread: class rows list the
 * neighbours NeighbourSteps lists for every cell (per-axis boundaries, both connectivities); the
 * WebAssembly search (started with no spare chunks, so its buckets grow the memory, and run in
 * budgets of a few cells, so it resumes mid-cost) and the JavaScript one give Dijkstra's costs
 * for every cell and count each cost's cells as the reference does; both give the public cost
 * rule's costs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cellCost, costSeedOffset } from '../../shared/lattice/cost-rule.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { classTable, fillCellClasses, MAX_CLASS_DIMENSIONS } from '../../worker/kernels/cell-classes.ts';
import { DIAL_BUDGET, DIAL_DONE, DIAL_FOUND, DialWasm } from '../../worker/kernels/dial-wasm.ts';
import { DialJs, type DialEngine, type LevelCallback } from '../../worker/kernels/dial.ts';
import { NeighbourSteps } from '../../worker/kernels/neighbour-steps.ts';
import { cellArb, perAxisLatticeArb } from '../lattice/arbitraries.ts';
import { refIndex } from '../lattice/reference.ts';
import { refCostDistances, refCosts, refNeighboursWith } from '../lattice/reference-fields.ts';

const connectivityArb = fc.constantFrom('axis' as const, 'full' as const);
const fewAxes = perAxisLatticeArb().filter((l) => l.shape.length <= MAX_CLASS_DIMENSIONS);

/** Runs an engine over `costs` from `sources` in budgets; how it ended. */
function search(engine: DialEngine, costs: readonly number[], sources: number[], budgets: number[], end = -1): number {
  engine.costs.set(costs);
  engine.start(sources, sources.length, end);
  let status = DIAL_BUDGET;
  for (let k = 0; status === DIAL_BUDGET; k++) status = engine.run(budgets[k % budgets.length]!);
  return status;
}

function levelsOf(distances: readonly number[]): Map<number, number> {
  const levels = new Map<number, number>();
  for (const d of distances) if (d >= 0) levels.set(d, (levels.get(d) ?? 0) + 1);
  return levels;
}

/** The cost of the path walked back from `cell` by `previous` to a source; -2 when a step is no move to a neighbour. */
function walkedCost(lattice: Lattice, engine: DialEngine, costs: readonly number[], sources: Set<number>, cell: number, connectivity: 'axis' | 'full'): number {
  let sum = 0;
  for (let at = cell, steps = 0; !sources.has(at); steps++) {
    const from = engine.previous(at);
    if (steps >= lattice.cells || !refNeighboursWith(lattice, from, connectivity).includes(at)) return -2;
    sum += costs[at]!;
    at = from;
  }
  return sum;
}

describe('Dial search', () => {
  it('class rows list the neighbours NeighbourSteps lists, for every cell', () => {
    fc.assert(
      fc.property(fewAxes, connectivityArb, (l, connectivity) => {
        const lattice = resolveLattice(l.spec);
        const classes = new Uint8Array(lattice.cells);
        fillCellClasses(lattice, classes);
        const { rows, stride } = classTable(lattice, connectivity);
        const steps = new NeighbourSteps(lattice, connectivity);
        const around = new Float64Array(steps.max);
        for (let cell = 0; cell < lattice.cells; cell++) {
          const count = steps.fill(cell, around);
          const row = classes[cell]! * stride;
          const listed = Array.from({ length: rows[row]! }, (_, j) => cell + rows[row + 1 + 2 * j]!);
          expect(listed.sort((a, b) => a - b), JSON.stringify({ spec: l.spec, connectivity, cell })).toEqual(Array.from(around.subarray(0, count)).sort((a, b) => a - b));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('both engines give Dijkstra\'s costs, grown and resumed, per-axis boundaries, both connectivities', () => {
    const cases = fewAxes.chain((l) =>
      fc.record({
        l: fc.constant(l),
        sources: fc.array(cellArb(l.shape), { minLength: 1, maxLength: 4 }),
        connectivity: connectivityArb,
        max: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 255 })),
        seed: fc.nat(),
        budgets: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
      }),
    );
    let grown = 0;
    fc.assert(
      fc.property(cases, ({ l, sources, connectivity, max, seed, budgets }) => {
        const lattice: Lattice = resolveLattice(l.spec);
        const cells = [...new Set(sources.map((c) => refIndex(lattice, c)))];
        const costs = refCosts(lattice, max, seed, cells);
        const expected = refCostDistances(lattice, costs, cells, connectivity);
        const label = JSON.stringify({ spec: l.spec, sources, connectivity, max, seed, budgets });
        for (const make of [
          (level: LevelCallback) => new DialWasm(lattice, connectivity, max, level, true, 0),
          (level: LevelCallback) => new DialJs(lattice, connectivity, max, level, true),
        ]) {
          const levels = new Map<number, number>();
          const engine = make((cost, n) => levels.set(cost, (levels.get(cost) ?? 0) + n));
          const before = engine.bytes;
          expect(search(engine, costs, cells, budgets), label).toBe(DIAL_DONE);
          if (engine.bytes > before) grown++;
          expect(levels, label).toEqual(levelsOf(expected));
          expect(engine.settled, label).toBe(expected.filter((d) => d >= 0).length);
          // Reached cells had their cost byte zeroed; walked back, each costs what Dijkstra says.
          const reached = Array.from({ length: lattice.cells }, (_, i) => (costs[i] !== 0 && engine.costs[i] === 0 ? walkedCost(lattice, engine, costs, new Set(cells), i, connectivity) : -1));
          expect(reached, label).toEqual(expected);
        }
      }),
      { numRuns: 150 },
    );
    // Some searches needed more chunks than they started with.
    expect(grown).toBeGreaterThan(0);
  });

  it('both engines give the public cost rule\'s costs to open cells, past one cancel-check chunk too', () => {
    fc.assert(
      fc.property(fewAxes, fc.integer({ min: 1, max: 255 }), fc.nat(), (l, max, seed) => {
        const lattice = resolveLattice(l.spec);
        const expected = refCosts(lattice, max, seed, []);
        for (const engine of [new DialWasm(lattice, 'axis', max, () => {}, false), new DialJs(lattice, 'axis', max, () => {}, false)]) {
          engine.costs.set(expected.map((cost) => (cost > 0 ? 1 : 0)));
          expect(engine.fillCosts(max, costSeedOffset(seed), () => {})).toBe(expected.filter((cost) => cost > 0).length);
          expect(Array.from(engine.costs)).toEqual(expected);
        }
      }),
      { numRuns: 100 },
    );
    const lattice = resolveLattice({ shape: [1100, 1000] });
    const engine = new DialWasm(lattice, 'axis', 200, () => {}, false);
    engine.costs.fill(1);
    const offset = costSeedOffset(2 ** 32 - 5);
    expect(engine.fillCosts(200, offset, () => {})).toBe(lattice.cells);
    for (const cell of [0, 1, 2 ** 20 - 1, 2 ** 20, 2 ** 20 + 1, lattice.cells - 1]) expect(engine.costs[cell]).toBe(cellCost(cell, 200, offset));
  });

  it('stops when the end cell is settled, at its least cost', () => {
    const cases = fewAxes.chain((l) => fc.record({ l: fc.constant(l), start: cellArb(l.shape), end: cellArb(l.shape), connectivity: connectivityArb, max: fc.integer({ min: 1, max: 255 }), seed: fc.nat() }));
    fc.assert(
      fc.property(cases, ({ l, start, end, connectivity, max, seed }) => {
        const lattice = resolveLattice(l.spec);
        const [s, e] = [refIndex(lattice, start), refIndex(lattice, end)];
        const costs = refCosts(lattice, max, seed, [s, e]);
        const expected = refCostDistances(lattice, costs, [s], connectivity)[e]!;
        for (const engine of [new DialWasm(lattice, connectivity, max, () => {}, false, 0), new DialJs(lattice, connectivity, max, () => {}, false)]) {
          expect(search(engine, costs, [s], [3], e)).toBe(expected < 0 ? DIAL_DONE : DIAL_FOUND);
          if (expected >= 0) expect(engine.cost).toBe(expected);
        }
      }),
      { numRuns: 100 },
    );
  });
});
