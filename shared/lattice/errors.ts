/**
 * Why a lattice spec or job parameters were refused. Each code is stable: the API maps every one
 * to a 400 problem, and a thread boundary keeps the code even though it loses the class.
 */
export const LATTICE_ERROR_CODES = {
  lattice_invalid: 'The lattice spec is malformed (dimensions, shape, boundary or obstacles)',
  too_many_cells: 'The lattice has more than 2^32 cells',
  cell_out_of_bounds: 'A cell lies outside the lattice shape',
  params_invalid: 'The job parameters are malformed or out of range',
} as const;

/** A stable code naming why a spec or its parameters were refused. */
export type LatticeErrorCode = keyof typeof LATTICE_ERROR_CODES;

/** HTTP status every lattice validation error maps to. */
export const LATTICE_ERROR_STATUS = 400;

/**
 * A spec or parameters a client sent are not valid. `field` is the path of the offending value,
 * dotted with bracketed indices (`shape[2]`, `obstacles.blocked[7]`, `params.start`), or `''` for
 * the spec as a whole.
 */
export class LatticeValidationError extends Error {
  override readonly name = 'LatticeValidationError';
  /** The HTTP status an API answers with. */
  readonly status = LATTICE_ERROR_STATUS;

  constructor(
    readonly code: LatticeErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }

  /** A JSON-safe form, so the error survives a thread boundary or a job row. */
  toJSON(): { name: string; code: LatticeErrorCode; field: string; message: string } {
    return { name: this.name, code: this.code, field: this.field, message: this.message };
  }
}

/**
 * Whether `err` is a lattice validation error, including one that crossed a thread boundary and
 * lost its class (it is then matched by `name` and `code`).
 */
export function isLatticeValidationError(
  err: unknown,
): err is Pick<LatticeValidationError, 'name' | 'code' | 'field' | 'message'> {
  if (err instanceof LatticeValidationError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const { name, code } = err as { name?: unknown; code?: unknown };
  return name === 'LatticeValidationError' && typeof code === 'string' && code in LATTICE_ERROR_CODES;
}

/** Formats a path of keys and indices as `a.b[3].c`. */
export function formatField(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}
