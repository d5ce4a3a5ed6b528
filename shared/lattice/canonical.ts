/**
 * The canonical form of a lattice spec, the one stored: an explicit obstacle list sorted by cell
 * index (row-major, which is the lexicographic order of coordinates) without repeats. Two specs
 * blocking the same cells store the same list, and a list never holds more entries than cells.
 */
import { indexOf } from './geometry.ts';
import type { LatticeSpec } from './types.ts';

/** Blocked cells sorted by index, each once. The cells must lie inside the shape of `strides`. */
export function canonicalBlocked(strides: readonly number[], blocked: readonly number[][]): number[][] {
  const indices = new Float64Array(blocked.length);
  for (let i = 0; i < blocked.length; i++) indices[i] = indexOf({ strides }, blocked[i]!);
  const order = Uint32Array.from({ length: blocked.length }, (_, i) => i).sort((a, b) => indices[a]! - indices[b]!);
  const out: number[][] = [];
  let previous = -1;
  for (const i of order) {
    if (indices[i] === previous) continue;
    previous = indices[i]!;
    out.push(blocked[i]!);
  }
  return out;
}

/** A valid spec with its explicit obstacles (if any) in canonical form; `strides` are its shape's. */
export function canonicalSpec(spec: LatticeSpec, strides: readonly number[]): LatticeSpec {
  const obstacles = spec.obstacles;
  if (obstacles === undefined || !('blocked' in obstacles)) return spec;
  return { ...spec, obstacles: { blocked: canonicalBlocked(strides, obstacles.blocked) } };
}

/** A spec split for storage: its head (shape, boundary, procedural rule) and its explicit list. */
export interface StoredSpec {
  head: LatticeSpec;
  blocked: number[][] | null;
}

/** Splits a spec into what a listing reads (the head) and the explicit list, which only runs read. */
export function splitSpec(spec: LatticeSpec): StoredSpec {
  const obstacles = spec.obstacles;
  if (obstacles === undefined || !('blocked' in obstacles)) return { head: spec, blocked: null };
  const { obstacles: _list, ...head } = spec;
  return { head, blocked: obstacles.blocked };
}

/** The spec a head and an explicit list make (the inverse of {@link splitSpec}). */
export function joinSpec(head: LatticeSpec, blocked: number[][] | null): LatticeSpec {
  return blocked === null ? head : { ...head, obstacles: { blocked } };
}
