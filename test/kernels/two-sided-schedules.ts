/** Interleavings of the two-thread search's sides (both stepped in one thread), and the check of its answers. */
import fc from 'fast-check';
import { expect } from 'vitest';
import { CellPath } from '../../shared/lattice/cell-path.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { pathResult } from '../../worker/kernels/path-result.ts';
import { refPathProblem, refShortestPathLength } from '../lattice/reference.ts';

/** A schedule: which side steps next, drawn from a seeded generator with a bias (0.5: even; 0.05: the end side races ahead). */
export const scheduleArb = fc.record({ seed: fc.integer({ min: 1, max: 2 ** 30 }), bias: fc.constantFrom(0.5, 0.05, 0.95, 0.3), chunk: fc.integer({ min: 1, max: 6 }) });

export function picker({ seed, bias }: { seed: number; bias: number }): () => 0 | 1 {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) / 2 ** 24 < bias ? 0 : 1;
  };
}

/** The reference's length, and (when reachable) a valid path from start to end. */
export function check(lattice: Lattice, start: number, end: number, outcome: { length: number | null; path: ArrayLike<number>; visited: number }, where: string): void {
  const expected = refShortestPathLength(lattice, start, end);
  expect(outcome.length, where).toBe(expected);
  if (expected !== null) {
    const path = new CellPath(pathResult(outcome.path, outcome.visited).path, lattice.shape).coordinates();
    expect(refPathProblem(lattice, path, start, end), where).toBeNull();
  }
}
