/**
 * Why a kernel run ended without a result. Codes are stable: threads send them as plain data
 * (an Error loses its class and own fields when posted), and the job runner decides on them.
 */
export const KERNEL_ERROR_CODES = {
  cancelled: 'The job was cancelled',
  too_large: 'The job needs more memory than the pool allows',
  pool_closed: 'The kernel pool is closing or closed',
  kernel_failed: 'The kernel failed unexpectedly',
} as const;

/** A stable code naming why a kernel run failed. */
export type KernelErrorCode = keyof typeof KERNEL_ERROR_CODES;

/** A kernel run that ended without a result. `code` says why. */
export class KernelError extends Error {
  override readonly name = 'KernelError';

  constructor(
    readonly code: KernelErrorCode,
    message: string = KERNEL_ERROR_CODES[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether `err` is a kernel error with the given code (or any code), matched by name and code. */
export function isKernelError(err: unknown, code?: KernelErrorCode): err is KernelError {
  if (typeof err !== 'object' || err === null) return false;
  const candidate = err as { name?: unknown; code?: unknown };
  if (candidate.name !== 'KernelError' || typeof candidate.code !== 'string') return false;
  return code === undefined || candidate.code === code;
}

/** Whether `err` means the run was cancelled. */
export function isCancelled(err: unknown): boolean {
  return isKernelError(err, 'cancelled');
}
