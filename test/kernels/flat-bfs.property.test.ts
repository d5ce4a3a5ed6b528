/**
 * The one-thread search both ways it expands layers — in WebAssembly (its state in the instance's
 * memory) and in JavaScript (its state in a shared buffer, as for lattices too large for a
 * WebAssembly memory) — against the reference BFS on random small lattices: same length, valid
 * path, same answer from both.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveJob } from '../../shared/lattice/job.ts';
import { dropKeptFrontierArrays, flatBfs, flatBfsPlan, keptFrontierArrays } from '../../worker/kernels/flat-bfs.ts';
import { keptFlatBfs } from '../../worker/kernels/flat-bfs-wasm.ts';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { CellPath } from '../../shared/lattice/cell-path.ts';
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
            const result = { path: new CellPath(pathResult(outcome.path, outcome.visited).path, lattice.shape).coordinates() };
            expect(refPathProblem(lattice, result.path, params.start, params.end), where).toBeNull();
          }
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe("one-thread search in a thread's kept instance", () => {
  it('searches exactly as in a fresh one, whatever the last search left in it', () => {
    const search = (spec: object, start: number[], end: number[]) => {
      const { lattice, params } = resolveJob('shortest_path', spec, { start, end });
      const control = JobControl.create(1);
      const task = { kind: 'flat_bfs' as const, control: control.buffers, lattice, start: params.start, end: params.end, state: null };
      const { outcome, bytes } = flatBfs(task, control);
      return { outcome, bytes, expected: refShortestPathLength(lattice, params.start, params.end) };
    };
    /** What a search may leave behind: every byte of the kept memory garbage, and cells of the larger lattice in its frontier arrays. */
    const dirty = (): void => {
      new Uint8Array(keptFlatBfs.peek()!.memory.buffer).fill(0xff);
      expect(keptFrontierArrays().length).toBe(3);
      for (const list of keptFrontierArrays()) list.fill(299 * 300 + 150);
    };
    const cases = [
      { spec: { shape: [37, 21, 9], obstacles: { density: 0.3, seed: 5 } }, start: [0, 0, 0], end: [36, 20, 8] },
      { spec: { shape: [60, 45], boundary: 'periodic', obstacles: { density: 0.35, seed: 3 } }, start: [1, 2], end: [40, 30] },
      { spec: { shape: [50, 50], obstacles: { blocked: Array.from({ length: 48 }, (_, i) => [25, i]) } }, start: [0, 0], end: [49, 0] },
    ];
    for (const { spec, start, end } of cases) {
      // A larger search first (its memory kept), then the small one in that memory, garbage-filled.
      search({ shape: [300, 300], obstacles: { density: 0.2, seed: 1 } }, [0, 0], [299, 299]);
      dirty();
      const kept = search(spec, start, end);
      dirty();
      // Two instances at once: the search cannot have the kept one; no kept frontier arrays either.
      const holder = keptFlatBfs.take(0);
      dropKeptFrontierArrays();
      const fresh = search(spec, start, end);
      keptFlatBfs.release(holder);
      expect(kept.outcome, JSON.stringify(spec)).toEqual(fresh.outcome);
      // What a search reports (and its job reserves) does not depend on what it started from.
      expect(kept.bytes, JSON.stringify(spec)).toBe(fresh.bytes);
      expect(kept.outcome.length, JSON.stringify(spec)).toBe(kept.expected);
      expect(kept.expected, JSON.stringify(spec)).not.toBeNull();
    }
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
      const result = { path: new CellPath(pathResult(sorted.outcome.path, sorted.outcome.visited).path, lattice.shape).coordinates() };
      expect(refPathProblem(lattice, result.path, params.start, params.end)).toBeNull();
    }
  });
});
