/** Lattice kernels in worker threads: the pool the job runner calls, and its types and errors. */
export { KernelPool } from './kernel-pool.ts';
export type { KernelPoolState } from './kernel-pool.ts';
export { KERNEL_POOL_DEFAULTS, resolveKernelPoolOptions } from './kernel-pool-options.ts';
export type { KernelPoolOptions, ResolvedKernelPoolOptions } from './kernel-pool-options.ts';
export type { KernelOutcome, KernelRun, KernelRunOptions, KernelRunStats } from './kernel-run.ts';
export { KERNEL_ERROR_CODES, KernelError, isCancelled, isKernelError } from './kernel-errors.ts';
export type { KernelErrorCode } from './kernel-errors.ts';
