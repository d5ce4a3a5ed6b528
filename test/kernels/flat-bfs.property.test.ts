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
