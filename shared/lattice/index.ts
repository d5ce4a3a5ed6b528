/**
 * The lattice model (docs/architecture.md › The lattice model): specs and their schemas,
 * validation, index arithmetic and the procedural obstacle rule. Slabs and bit-packed slab
 * arrays, which only the kernels use, live in worker/kernels/.
 */
export * from './errors.ts';
export * from './limits.ts';
export * from './lowbias32.ts';
export * from './schema.ts';
export type * from './types.ts';
export * from './validate.ts';
export * from './canonical.ts';
export * from './geometry.ts';
export * from './resolve.ts';
export * from './job.ts';
