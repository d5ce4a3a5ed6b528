/** Turns a path of cell indices into the shortest-path result clients read. */
import { coordsOf } from '../../shared/lattice/geometry.ts';
import { MAX_RETURNED_PATH_CELLS } from '../../shared/lattice/limits.ts';
import type { Lattice, ShortestPathResult } from '../../shared/lattice/types.ts';

/** The result of a search that found `path` (cell indices, start to end) or nothing (null). */
export function pathResult(lattice: Lattice, path: number[] | null, visited: number): Omit<ShortestPathResult, 'memory_bytes'> {
  if (path === null) return { reachable: false, length: null, path: [], visited };
  if (path.length > MAX_RETURNED_PATH_CELLS) {
    return { reachable: true, length: path.length - 1, path: [], path_omitted: true, visited };
  }
  return { reachable: true, length: path.length - 1, path: path.map((cell) => coordsOf(lattice, cell)), visited };
}
