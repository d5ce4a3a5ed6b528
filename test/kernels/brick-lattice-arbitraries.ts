/**
 * Random 3-D lattices for the searches in bricks (flat-bfs-bricks and two-sided-bricks property
 * tests): shapes across several bricks, every obstacle kind (procedural, explicit, none, and,
 * with `map`, the same obstacles as an uploaded map), ends anywhere.
 */
import fc from 'fast-check';
import type { Lattice } from '../../shared/lattice/types.ts';
import { cellArb } from '../lattice/arbitraries.ts';
import { refBlocked } from '../lattice/reference.ts';

/** The same lattice with its obstacles as an uploaded map (bit i & 7 of byte i >> 3, 1 = blocked). */
export function asMap(lattice: Lattice): Lattice {
  const blocked = refBlocked(lattice);
  const bits = new Uint8Array(Math.ceil(lattice.cells / 8));
  blocked.forEach((b, i) => {
    if (b !== 0) bits[i >> 3]! |= 1 << (i & 7);
  });
  return { ...lattice, obstacles: { kind: 'map', bits } };
}

/** Shapes up to `maxShape`, procedural obstacles up to `maxDensity`, explicit ones up to 40% of the cells, or none. */
export function brickCaseArb(maxShape: readonly [number, number, number], maxDensity: number) {
  return fc
    .tuple(fc.integer({ min: 1, max: maxShape[0] }), fc.integer({ min: 1, max: maxShape[1] }), fc.integer({ min: 1, max: maxShape[2] }))
    .chain((shape) => {
      const cells = shape[0] * shape[1] * shape[2];
      const obstacles = fc.oneof(
        { weight: 6, arbitrary: fc.record({ density: fc.double({ min: 0, max: maxDensity, noNaN: true }), seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }) },
        { weight: 2, arbitrary: fc.record({ blocked: fc.array(cellArb(shape), { maxLength: Math.ceil(cells * 0.4) }) }) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      );
      return fc.record({ shape: fc.constant(shape), obstacles, start: cellArb(shape), end: cellArb(shape), map: fc.boolean() });
    });
}
