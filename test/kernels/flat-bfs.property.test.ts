/**
 * The one-thread search both ways it expands layers — in WebAssembly (its state in the instance's
 * memory) and in JavaScript (its state in a shared buffer, as for lattices too large for a
 * WebAssembly memory) — against the reference BFS on random small lattices: same length, valid
 * path, same answer from both.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveJob } from '../../shared/lattice/job.ts';
import { flatBfs, flatBfsPlan } from '../../worker/kernels/flat-bfs.ts';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { pathResult } from '../../worker/kernels/path-result.ts';
import { pathCaseArb } from '../lattice/arbitraries.ts';
import { refPathProblem, refShortestPathLength } from '../lattice/reference.ts';

/** Bytes of the JavaScript expansion's shared state: 3 bits per cell and one blocked cell past the last. */
const jsStateBytes = (cells: number): number => 12 * Math.ceil((cells + 1) / 32);

describe('one-thread shortest-path search', () => {
  it('matches the reference in WebAssembly and in JavaScript', () => {
    fc.assert(
      fc.property(pathCaseArb(), ({ spec, start, end }) => {
        const { lattice, params } = resolveJob('shortest_path', spec, { start, end });
        if (params.start === params.end) return;
        const expected = refShortestPathLength(lattice, params.start, params.end);
        expect(flatBfsPlan(lattice).wasm).not.toBeNull();
        for (const state of [null, new SharedArrayBuffer(jsStateBytes(lattice.cells))]) {
          const control = JobControl.create(1);
          const task = { kind: 'flat_bfs' as const, control: control.buffers, lattice, start: params.start, end: params.end, state };
          const { outcome } = flatBfs(task, control);
          const where = `${JSON.stringify({ spec, start, end })} ${state === null ? 'wasm' : 'js'}`;
          expect(outcome.length, where).toBe(expected);
          if (expected !== null) {
            const result = pathResult(lattice, outcome.path, outcome.visited);
            expect(refPathProblem(lattice, result.path, params.start, params.end), where).toBeNull();
          }
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe('one-thread search with frontiers sorted into memory order', () => {
  // Frontiers are sorted only from 8,192 cells (frontier-order.ts), so these lattices are large
  // enough to grow such layers; the lattice-size threshold is lowered to 0 to sort them here.
  const cases = [
    { shape: [128, 128, 128], obstacles: { density: 0.3, seed: 1 } },
    { shape: [104, 112, 120], obstacles: { density: 0.3, seed: 3 }, boundary: 'periodic' as const },
  ];
  it.each(cases)('matches the reference on $shape, density $obstacles.density', (spec) => {
    const end = spec.boundary === 'periodic' ? spec.shape.map((side) => side >> 1) : spec.shape.map((side) => side - 1);
    const { lattice, params } = resolveJob('shortest_path', spec, { start: [0, 0, 0], end });
    const expected = refShortestPathLength(lattice, params.start, params.end);
    const run = (orderMinCells: number) => {
      const control = JobControl.create(1);
      return flatBfs({ kind: 'flat_bfs', control: control.buffers, lattice, start: params.start, end: params.end, state: null }, control, { orderMinCells });
    };
    const sorted = run(0);
    const plain = run(Infinity);
    // The sort's scratch array counts in the search's bytes only when a frontier was sorted.
    expect(sorted.bytes).toBeGreaterThan(plain.bytes);
    expect(sorted.outcome.length).toBe(expected);
    expect(plain.outcome.length).toBe(expected);
    if (expected !== null) {
      const result = pathResult(lattice, sorted.outcome.path, sorted.outcome.visited);
      expect(refPathProblem(lattice, result.path, params.start, params.end)).toBeNull();
    }
  });
});
