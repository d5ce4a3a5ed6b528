/**
 * The lattice model (docs/architecture.md › The lattice model): specs and their schemas, validation, index arithmetic, the
 * procedural obstacle rule, slabs and bit-packed slab arrays.
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
export * from './slabs.ts';
export * from './bit-slab.ts';
export * from './field-sample.ts';
