/** The benchmark's lattices: corner to corner, procedural obstacles of density 0.2, seed 7. */
import { writeFileSync } from 'node:fs';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { isProcedurallyBlocked } from '../../shared/lattice/lowbias32.ts';
import type { LatticeSpecInput } from '../../shared/lattice/types.ts';

export const DENSITY = 0.2;
export const SEED = 7;

/** One shortest-path case. */
export interface PathCase {
  name: string;
  dimensions: number;
  side: number;
  spec: LatticeSpecInput;
  start: number[];
  end: number[];
  cells: number;
  /** Only this engine can hold it: peers are skipped. */
  huge: boolean;
}

function pathCase(dimensions: number, side: number, huge = false): PathCase {
  return {
    name: `${dimensions}-D side ${side}`,
    dimensions,
    side,
    spec: { dimensions, size: side, obstacles: { density: DENSITY, seed: SEED } },
    start: new Array<number>(dimensions).fill(0),
    end: new Array<number>(dimensions).fill(side - 1),
    cells: side ** dimensions,
    huge,
  };
}

/** The shortest-path lattices of the issue: three peers can hold, one (≥ 10^9 cells) they cannot. */
export const PATH_CASES: PathCase[] = [pathCase(5, 10), pathCase(3, 100), pathCase(2, 2000), pathCase(3, 1024, true)];

/** Lattices for kernel throughput (cells per second). */
export const THROUGHPUT_CASES = {
  components: { name: '3-D side 256', spec: { dimensions: 3, size: 256, obstacles: { density: DENSITY, seed: SEED } } },
  diffusion: {
    name: '3-D side 128, 20 steps',
    spec: { dimensions: 3, size: 128, obstacles: { density: DENSITY, seed: SEED } },
    params: { steps: 20, alpha: 0.15, initial: [{ cell: [64, 64, 64], value: 1000 }] },
  },
} as const;

/**
 * Writes the blocked cells of a case (ends excluded) as little-endian uint32 row-major
 * indices, for a peer that deletes them from its graph. Returns how many there are.
 */
export function writeBlockedIndices(pathCase: PathCase, file: string): number {
  const lattice = resolveLattice(pathCase.spec);
  if (lattice.obstacles.kind !== 'procedural') throw new Error('benchmark lattices are procedural');
  const { threshold, offset } = lattice.obstacles;
  const start = pathCase.start.reduce((index, x, a) => index + x * lattice.strides[a]!, 0);
  const end = pathCase.end.reduce((index, x, a) => index + x * lattice.strides[a]!, 0);
  const blocked: number[] = [];
  for (let i = 0; i < lattice.cells; i++) {
    if (i !== start && i !== end && isProcedurallyBlocked(i, threshold, offset)) blocked.push(i);
  }
  writeFileSync(file, Buffer.from(Uint32Array.from(blocked).buffer));
  return blocked.length;
}
