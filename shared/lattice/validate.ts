/**
 * Checks of a parsed lattice spec that a per-field schema cannot express: shape versus cube
 * size, the cell count, obstacles inside the shape and no more of them than cells. Cheap: nothing is materialised, and an
 * explicit obstacle list is read once.
 */
import { MAX_CELLS } from './limits.ts';
import type { LatticeErrorCode } from './errors.ts';
import type { LatticeSpec } from './types.ts';

/** One problem found in a spec, located by a path of keys and indices. */
export interface LatticeIssue {
  code: LatticeErrorCode;
  path: (string | number)[];
  message: string;
}

/** The shape a spec describes, or the issue that prevents knowing it. */
export function shapeOfSpec(spec: Pick<LatticeSpec, 'shape' | 'dimensions' | 'size'>): number[] | LatticeIssue {
  const { shape, dimensions, size } = spec;
  if (shape !== undefined) {
    if (dimensions !== undefined || size !== undefined) {
      return issue('lattice_invalid', ['shape'], 'give either shape, or dimensions and size, not both');
    }
    return [...shape];
  }
  if (dimensions === undefined || size === undefined) {
    return issue(
      'lattice_invalid',
      [dimensions === undefined ? 'dimensions' : 'size'],
      'give either shape, or dimensions and size for a cube',
    );
  }
  return new Array<number>(dimensions).fill(size);
}

/**
 * The number of cells of a shape, stopping early once past {@link MAX_CELLS} so the result is
 * always a finite number (a shape of 10 huge sides would otherwise overflow to Infinity).
 */
export function cellsOfShape(shape: readonly number[]): number {
  let cells = 1;
  for (const side of shape) {
    cells *= side;
    if (cells > MAX_CELLS) return MAX_CELLS + 1;
  }
  return cells;
}

/** Why `coords` is not a cell of `shape`, or null when it is one. */
export function cellIssue(
  coords: readonly number[],
  shape: readonly number[],
  path: (string | number)[],
  what: string,
): LatticeIssue | null {
  if (coords.length !== shape.length) {
    return issue(
      'cell_out_of_bounds',
      path,
      `${what} has ${coords.length} coordinates but the lattice has ${shape.length} axes`,
    );
  }
  for (let a = 0; a < shape.length; a++) {
    const x = coords[a]!;
    const side = shape[a]!;
    if (!Number.isInteger(x) || x < 0 || x >= side) {
      return issue(
        'cell_out_of_bounds',
        [...path, a],
        `${what} [${coords.join(', ')}] lies outside the shape [${shape.join(', ')}] on axis ${a}`,
      );
    }
  }
  return null;
}

/** What checking a spec derives from it: its shape and cell count. */
export interface SpecMeasure {
  shape: number[];
  cells: number;
}

/** Whether a check's result is a problem. */
export function isLatticeIssue(value: object): value is LatticeIssue {
  return 'code' in value;
}

/**
 * Checks a parsed spec and measures it in the same pass: its shape and cell count, or its first
 * problem. Callers keep the measure, so the shape is derived once per spec.
 */
export function measureSpec(spec: LatticeSpec): SpecMeasure | LatticeIssue {
  const shape = shapeOfSpec(spec);
  if (!Array.isArray(shape)) return shape;
  const cells = cellsOfShape(shape);
  if (cells > MAX_CELLS) {
    return issue(
      'too_many_cells',
      [spec.shape !== undefined ? 'shape' : 'size'],
      `the lattice [${shape.join(' x ')}] has more than 2^32 cells`,
    );
  }
  if (Array.isArray(spec.boundary) && spec.boundary.length !== shape.length) {
    return issue('lattice_invalid', ['boundary'], `boundary lists ${spec.boundary.length} axes but the lattice has ${shape.length}`);
  }
  const obstacles = spec.obstacles;
  if (obstacles !== undefined && 'blocked' in obstacles) {
    // More entries than cells can only be repeats: refused, so a stored list stays proportional to its lattice.
    if (obstacles.blocked.length > cells) {
      return issue(
        'lattice_invalid',
        ['obstacles', 'blocked'],
        `obstacles.blocked lists ${obstacles.blocked.length} cells but the lattice [${shape.join(' x ')}] has only ${cells}`,
      );
    }
    for (let i = 0; i < obstacles.blocked.length; i++) {
      const found = cellIssue(obstacles.blocked[i]!, shape, ['obstacles', 'blocked', i], 'blocked cell');
      if (found) return found;
    }
  }
  return { shape, cells };
}

/** The first problem with a parsed spec, or null when it describes a valid lattice. */
export function latticeIssue(spec: LatticeSpec): LatticeIssue | null {
  const measured = measureSpec(spec);
  return isLatticeIssue(measured) ? measured : null;
}

function issue(code: LatticeErrorCode, path: (string | number)[], message: string): LatticeIssue {
  return { code, path, message };
}
