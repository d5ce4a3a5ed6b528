/** fast-check generators of small random lattices and job parameters. */
import fc from 'fast-check';
import type { DiffusionParamsInput, LatticeSpecInput } from '../../shared/lattice/types.ts';

/** Largest side per dimension, so every generated lattice stays a few hundred cells. */
const MAX_SIDE = [0, 48, 16, 7, 4, 3, 3];

/** A lattice spec with its shape spelled out (tests need it to draw cells). */
export interface SmallLattice {
  spec: LatticeSpecInput;
  shape: number[];
}

/** Coordinates of a random cell of `shape`. */
export function cellArb(shape: readonly number[]): fc.Arbitrary<number[]> {
  return fc.tuple(...shape.map((side) => fc.integer({ min: 0, max: side - 1 })));
}

/**
 * Random small lattices: 1 to 6 dimensions, both boundaries, procedural obstacles of density 0
 * to 0.6, explicit obstacle lists, or none; sometimes given as a cube.
 */
export function smallLatticeArb(): fc.Arbitrary<SmallLattice> {
  return fc
    .integer({ min: 1, max: 6 })
    .chain((d) =>
      fc.tuple(
        fc.array(fc.integer({ min: 1, max: MAX_SIDE[d]! }), { minLength: d, maxLength: d }),
        fc.constantFrom('open' as const, 'periodic' as const),
        fc.boolean(),
      ),
    )
    .chain(([shape, boundary, cube]) => {
      const cells = shape.reduce((p, s) => p * s, 1);
      const procedural = fc.record({
        density: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.6, noNaN: true })),
        seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      });
      const explicit = fc.record({ blocked: fc.array(cellArb(shape), { maxLength: Math.ceil(cells * 0.6) }) });
      const obstacles = fc.oneof(
        { weight: 6, arbitrary: procedural },
        { weight: 2, arbitrary: explicit },
        { weight: 1, arbitrary: fc.constant(undefined) },
      );
      return obstacles.map((chosen): SmallLattice => {
        const side = shape[0]!;
        const asCube = cube && shape.every((s) => s === side);
        const spec: LatticeSpecInput = asCube
          ? { dimensions: shape.length, size: side, boundary }
          : { shape, boundary };
        if (chosen !== undefined) spec.obstacles = chosen;
        return { spec, shape };
      });
    });
}

/** A small lattice with a start and an end cell. */
export function pathCaseArb(): fc.Arbitrary<SmallLattice & { start: number[]; end: number[] }> {
  return smallLatticeArb().chain((lattice) =>
    fc.record({ start: cellArb(lattice.shape), end: cellArb(lattice.shape) }).map((ends) => ({ ...lattice, ...ends })),
  );
}

/**
 * 2-D and 3-D lattices with obstacles dense enough that the dive meets dead ends and backs out of
 * them (the small lattices of pathCaseArb seldom make it), with a start and an end cell.
 */
export function crowdedPathCaseArb() {
  const shape = fc.oneof(fc.tuple(fc.integer({ min: 8, max: 48 }), fc.integer({ min: 8, max: 48 })), fc.tuple(fc.integer({ min: 4, max: 16 }), fc.integer({ min: 4, max: 16 }), fc.integer({ min: 4, max: 16 })));
  return shape.chain((s) =>
    fc.record({
      spec: fc.record({
        shape: fc.constant(s),
        boundary: fc.constantFrom('open' as const, 'periodic' as const),
        obstacles: fc.record({ density: fc.double({ min: 0.15, max: 0.4, noNaN: true }), seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
      }),
      start: cellArb(s),
      end: cellArb(s),
    }),
  );
}

/** A small lattice with diffusion parameters that are stable on it. */
export function diffusionCaseArb(): fc.Arbitrary<SmallLattice & { params: DiffusionParamsInput }> {
  return smallLatticeArb().chain((lattice) => {
    const point = fc.record({ cell: cellArb(lattice.shape), value: fc.double({ min: -5, max: 50, noNaN: true }) });
    const params = fc.record({
      steps: fc.integer({ min: 0, max: 12 }),
      alpha: fc.double({ min: 0.01, max: 1 / (2 * lattice.shape.length), noNaN: true }),
      sources: fc.array(point, { maxLength: 3 }),
      initial: fc.array(point, { maxLength: 3 }),
    });
    return params.map((p) => ({ ...lattice, params: p }));
  });
}

/** {@link smallLatticeArb} with one boundary per axis (igraph's `periodic` vector), mixed more often than not. */
export function perAxisLatticeArb(): fc.Arbitrary<SmallLattice> {
  return smallLatticeArb().chain((l) =>
    fc.array(fc.constantFrom('open' as const, 'periodic' as const), { minLength: l.shape.length, maxLength: l.shape.length }).map(
      (boundary): SmallLattice => ({ shape: l.shape, spec: { shape: l.shape, boundary, ...(l.spec.obstacles ? { obstacles: l.spec.obstacles } : {}) } }),
    ),
  );
}
