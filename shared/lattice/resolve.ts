/**
 * From an untrusted lattice spec to a validated {@link Lattice}: parse with the schema, check
 * the shape and obstacles, precompute strides and the obstacle rule. Every refusal is a
 * {@link LatticeValidationError} with a stable code and the offending field.
 */
import type { z } from 'zod';
import { LatticeValidationError, formatField } from './errors.ts';
import type { LatticeErrorCode } from './errors.ts';
import { indexOf, stridesOf } from './geometry.ts';
import { blockThreshold, seedOffset } from './lowbias32.ts';
import { LatticeSpecObjectSchema } from './schema.ts';
import type { Boundary, Lattice, LatticeSpec, ObstacleRule } from './types.ts';
import { cellsOfShape, latticeIssue, shapeOfSpec } from './validate.ts';

/** What a spec describes, known without materialising anything. */
export interface LatticeSummary {
  dimensions: number;
  shape: number[];
  cells: number;
  boundary: Boundary;
  obstacles: 'none' | 'explicit' | 'procedural';
}

/**
 * Parses and checks a spec without resolving its obstacles.
 *
 * @throws LatticeValidationError when the spec is not valid
 */
export function parseLatticeSpec(input: unknown): LatticeSpec {
  const spec = parseWith(LatticeSpecObjectSchema, input, 'lattice_invalid', []);
  const issue = latticeIssue(spec);
  if (issue) throw new LatticeValidationError(issue.code, formatField(issue.path), issue.message);
  return spec;
}

/**
 * Validates a spec cheaply, for the API to refuse a bad submission before queueing it: the cost
 * is the size of the spec (an explicit obstacle list is read once), never the number of cells.
 *
 * @throws LatticeValidationError when the spec is not valid
 */
export function checkLatticeSpec(input: unknown): LatticeSummary {
  return summarizeSpec(parseLatticeSpec(input));
}

/** What a parsed, valid spec describes. */
export function summarizeSpec(spec: LatticeSpec): LatticeSummary {
  const shape = shapeOfSpec(spec) as number[];
  return {
    dimensions: shape.length,
    shape,
    cells: cellsOfShape(shape),
    boundary: spec.boundary,
    obstacles: spec.obstacles === undefined ? 'none' : 'blocked' in spec.obstacles ? 'explicit' : 'procedural',
  };
}

/**
 * The number of cells a spec describes, reading only its shape (not its obstacles). Values past
 * 2^32 are reported as 2^32 + 1.
 *
 * @throws LatticeValidationError when the shape cannot be read
 */
export function countCells(input: unknown): number {
  const spec = parseWith(
    LatticeSpecObjectSchema.pick({ shape: true, dimensions: true, size: true }),
    // Only the shape matters here; the rest of the spec is checked elsewhere.
    pickShapeFields(input),
    'lattice_invalid',
    [],
  );
  const shape = shapeOfSpec(spec);
  if (!Array.isArray(shape)) throw new LatticeValidationError(shape.code, formatField(shape.path), shape.message);
  return cellsOfShape(shape);
}

/**
 * Validates a spec and resolves it into a {@link Lattice} ready for the kernels. An explicit
 * obstacle list becomes a sorted array of indices (cost: its length, not the lattice's size).
 *
 * @throws LatticeValidationError when the spec is not valid
 */
export function resolveLattice(input: unknown): Lattice {
  const spec = parseLatticeSpec(input);
  const shape = shapeOfSpec(spec) as number[];
  const strides = stridesOf(shape);
  return {
    shape,
    strides,
    dimensions: shape.length,
    cells: cellsOfShape(shape),
    boundary: spec.boundary,
    obstacles: resolveObstacles(spec, strides),
  };
}

function resolveObstacles(spec: LatticeSpec, strides: readonly number[]): ObstacleRule {
  const obstacles = spec.obstacles;
  if (obstacles === undefined) return { kind: 'none' };
  if ('density' in obstacles) {
    return {
      kind: 'procedural',
      density: obstacles.density,
      seed: obstacles.seed,
      threshold: blockThreshold(obstacles.density),
      offset: seedOffset(obstacles.seed),
    };
  }
  const indices = new Float64Array(obstacles.blocked.length);
  for (let i = 0; i < indices.length; i++) indices[i] = indexOf({ strides }, obstacles.blocked[i]!);
  indices.sort();
  let unique = 0;
  for (let i = 0; i < indices.length; i++) {
    if (i === 0 || indices[i] !== indices[i - 1]) indices[unique++] = indices[i]!;
  }
  return { kind: 'explicit', blocked: indices.slice(0, unique) };
}

function pickShapeFields(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const { shape, dimensions, size } = input as Record<string, unknown>;
  return { shape, dimensions, size };
}

/**
 * Parses with a schema, turning the first issue into a {@link LatticeValidationError}. A custom
 * issue may carry its own code in `params.code`.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  code: LatticeErrorCode,
  prefix: (string | number)[],
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const issueCode = issue.code === 'custom' ? (issue.params?.['code'] as LatticeErrorCode | undefined) : undefined;
  const field = formatField([...prefix, ...issue.path]);
  throw new LatticeValidationError(issueCode ?? code, field, field === '' ? issue.message : `${field}: ${issue.message}`);
}
