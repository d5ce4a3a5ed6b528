/**
 * A search's path as the thread hands it back: its cells' indices, start to end, in one uint32
 * array of exactly its length (4 bytes a cell to copy to the pool's thread). The pool turns it
 * into coordinates, or into a CellPath that only the result writer turns into text
 * (kernel-pool.ts's `pathCells` option; shared/lattice/cell-path.ts).
 */
import { CellPath } from '../../shared/lattice/cell-path.ts';
import { coordsOf } from '../../shared/lattice/geometry.ts';
import { MAX_RETURNED_PATH_CELLS } from '../../shared/lattice/limits.ts';
import type { Lattice } from '../../shared/lattice/types.ts';

/** A path result as a thread answers it: `path` holds cell indices. */
export interface CellPathResult {
  reachable: boolean;
  length: number | null;
  path: Uint32Array;
  path_omitted?: true;
  visited: number;
}

const NO_CELLS = new Uint32Array(0);

/** A path of cell indices (start to end) as a uint32 array of exactly its length. */
export function pathCells(path: ArrayLike<number>): Uint32Array {
  return path instanceof Uint32Array && path.byteOffset === 0 && path.byteLength === path.buffer.byteLength ? path : Uint32Array.from(path);
}

/**
 * A path from its two walked-back halves: `startHalf` from the meeting back to the start (so
 * reversed here) and `endHalf` from the meeting on to the end, as one uint32 array.
 */
export function joinHalves(startHalf: readonly number[], endHalf: readonly number[]): Uint32Array {
  const path = new Uint32Array(startHalf.length + endHalf.length);
  for (let k = 0; k < startHalf.length; k++) path[k] = startHalf[startHalf.length - 1 - k]!;
  path.set(endHalf, startHalf.length);
  return path;
}

/** The result of a search that found `path` (cell indices, start to end) or nothing (null). */
export function pathResult(path: ArrayLike<number> | null, visited: number): CellPathResult {
  if (path === null) return { reachable: false, length: null, path: NO_CELLS, visited };
  if (path.length > MAX_RETURNED_PATH_CELLS) {
    return { reachable: true, length: path.length - 1, path: NO_CELLS, path_omitted: true, visited };
  }
  return { reachable: true, length: path.length - 1, path: pathCells(path), visited };
}

/**
 * A thread's result with its paths (`path`, and each of `pairs`' paths) as the pool hands them on:
 * coordinate lists, or with `asCells` CellPaths (4 bytes a cell until they are written).
 */
export function withPaths<R>(result: R, lattice: Pick<Lattice, 'shape'>, asCells: boolean): R {
  if (result === null || typeof result !== 'object') return result;
  const record = result as Record<string, unknown>;
  if (!('path' in record) && !('pairs' in record)) return result;
  const out: Record<string, unknown> = { ...record };
  if ('path' in record) out['path'] = convertPath(record['path'], lattice, asCells);
  if (Array.isArray(record['pairs'])) out['pairs'] = (record['pairs'] as Array<Record<string, unknown>>).map((pair) => ({ ...pair, path: convertPath(pair['path'], lattice, asCells) }));
  return out as R;
}

/** One path as withPaths hands it on (a module function: a named closure costs a defineProperty per run under tsx's keepNames). */
function convertPath(path: unknown, lattice: Pick<Lattice, 'shape'>, asCells: boolean): unknown {
  if (!(path instanceof Uint32Array)) return path;
  if (asCells) return new CellPath(path, lattice.shape);
  const out = new Array<number[]>(path.length);
  for (let k = 0; k < path.length; k++) out[k] = coordsOf(lattice, path[k]!);
  return out;
}
