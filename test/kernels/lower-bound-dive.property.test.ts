/**
 * The lower-bound dive on its own, against the reference BFS on random small lattices: it finds a
 * path exactly when one of lower-bound length exists (given the budget of every cell), and the
 * path it finds is valid and of that length. The kernel's property tests cannot see a dive that
 * gives up too often, since the full search then answers with the same length.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CellPath } from '../../shared/lattice/cell-path.ts';
import { coordsOf, stepLowerBound } from '../../shared/lattice/geometry.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { lowerBoundDive } from '../../worker/kernels/lower-bound-dive.ts';
import { crowdedPathCaseArb, pathCaseArb } from '../lattice/arbitraries.ts';
import { refPathProblem, refShortestPathLength } from '../lattice/reference.ts';

describe('lower-bound dive', () => {
  it.each([
    ['small random lattices', pathCaseArb(), 500],
    ['crowded 2-D and 3-D lattices', crowdedPathCaseArb(), 100],
  ])('finds a path of lower-bound length whenever one exists, and only then: %s', (_, cases, atLeast) => {
    let dived = 0;
    fc.assert(
      fc.property(cases, ({ spec, start, end }) => {
        const { lattice, params } = resolveJob('shortest_path', spec, { start, end });
        const bound = stepLowerBound(lattice, coordsOf(lattice, params.start), coordsOf(lattice, params.end));
        const expected = refShortestPathLength(lattice, params.start, params.end);
        const control = JobControl.create(1);
        const task = { kind: 'dive' as const, control: control.buffers, lattice, start: params.start, end: params.end, budget: lattice.cells };
        const { path } = lowerBoundDive(task, control);
        const where = JSON.stringify({ spec, start, end });
        expect(path !== null, where).toBe(expected === bound);
        if (path === null) return;
        dived++;
        expect(path.length - 1, where).toBe(bound);
        expect(refPathProblem(lattice, new CellPath(Uint32Array.from(path), lattice.shape).coordinates(), params.start, params.end), where).toBeNull();
      }),
      { numRuns: 2000 },
    );
    // Many cases have a lower-bound path: the property above is not vacuous.
    expect(dived).toBeGreaterThan(atLeast);
  });
});
