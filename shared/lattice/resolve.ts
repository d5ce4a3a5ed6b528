/**
 * From an untrusted lattice spec to a validated one, parsed once: {@link parseLattice} (the API's
 * form, everything a submission's checks read) or {@link resolveLattice} (the kernels' form, its
 * obstacle rule resolved). Every refusal is a {@link LatticeValidationError} with a stable code
 * and the offending field.
 */
import type { z } from 'zod';
import { canonicalSpec } from './canonical.ts';
import { LatticeValidationError, formatField } from './errors.ts';
import type { LatticeErrorCode } from './errors.ts';
import { indexOf, stridesOf } from './geometry.ts';
import { blockThreshold, seedOffset } from './lowbias32.ts';
import { LatticeSpecObjectSchema } from './schema.ts';
import type { Boundary, BoundarySpec, Lattice, LatticeGeometry, LatticeSpec, ObstacleRule } from './types.ts';
import { cellsOfShape, isLatticeIssue, measureSpec, shapeOfSpec, type SpecMeasure } from './validate.ts';

/** What a spec describes, known without materialising anything. */
export interface LatticeSummary {
  dimensions: number;
  shape: number[];
  cells: number;
  boundary: BoundarySpec;
  obstacles: 'none' | 'explicit' | 'procedural' | 'map';
}

/**
 * A spec parsed and checked once, with what the checks derived: the form handed on to every
 * later check of a submission (plan limits, job parameters, memory) and to storage, so none of
 * them parses or measures the spec again.
 */
export interface CheckedLattice {
  /** The spec, defaults filled in, an explicit obstacle list in canonical form. */
  readonly spec: LatticeSpec;
  readonly summary: LatticeSummary;
  /** Shape and strides, to check and index a job's cells. */
  readonly geometry: LatticeGeometry;
}

/**
 * Parses and checks a spec, cheaply (the cost is the size of the spec: an explicit obstacle list
 * is read and indexed once, never the number of cells), for the API to refuse a bad submission
 * before queueing it.
 *
 * @throws LatticeValidationError when the spec is not valid
 */
export function parseLattice(input: unknown): CheckedLattice {
  return checkSpec(parseSpec(input));
}

/**
 * {@link parseLattice} for a spec already parsed by the lattice schema (a route's validated body,
 * a stored version's head): the checks across fields only.
 *
 * @throws LatticeValidationError when the spec is not valid
 */
export function checkSpec(spec: LatticeSpec): CheckedLattice {
  const { shape, cells } = measure(spec);
  const strides = stridesOf(shape);
  return {
    spec: canonicalSpec(spec, strides),
    summary: summaryOf(spec, shape, cells),
    geometry: { shape, strides, dimensions: shape.length },
  };
}

/**
 * What a spec describes, validating it without keeping it.
 *
 * @throws LatticeValidationError when the spec is not valid
 */
export function checkLatticeSpec(input: unknown): LatticeSummary {
  const spec = parseSpec(input);
  const { shape, cells } = measure(spec);
  return summaryOf(spec, shape, cells);
}

function parseSpec(input: unknown): LatticeSpec {
  return parseWith(LatticeSpecObjectSchema, input, 'lattice_invalid', []);
}

/** The spec's shape and cells, from the one pass that checks it. */
function measure(spec: LatticeSpec): SpecMeasure {
  const measured = measureSpec(spec);
  if (isLatticeIssue(measured)) throw new LatticeValidationError(measured.code, formatField(measured.path), measured.message);
  return measured;
}

function summaryOf(spec: LatticeSpec, shape: number[], cells: number): LatticeSummary {
  return {
    dimensions: shape.length,
    shape,
    cells,
    boundary: spec.boundary,
    obstacles: spec.obstacles === undefined ? 'none' : 'blocked' in spec.obstacles ? 'explicit' : 'map' in spec.obstacles ? 'map' : 'procedural',
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
 * @param map - the packed bits of the spec's uploaded obstacle map, when it names one
 * @throws LatticeValidationError when the spec is not valid
 */
export function resolveLattice(input: unknown, map?: Uint8Array): Lattice {
  const spec = parseSpec(input);
  const { shape, cells } = measure(spec);
  const strides = stridesOf(shape);
  return {
    shape,
    strides,
    dimensions: shape.length,
    cells,
    ...boundaryOf(spec.boundary, shape.length),
    obstacles: resolveObstacles(spec, strides, cells, map),
  };
}

/** A spec's boundary per axis, and its one value when every axis has the same. */
export function boundaryOf(boundary: BoundarySpec, dimensions: number): { boundary: Boundary | 'mixed'; periodic: boolean[] } {
  const periodic = typeof boundary === 'string' ? new Array<boolean>(dimensions).fill(boundary === 'periodic') : boundary.map((b) => b === 'periodic');
  const wraps = periodic.filter(Boolean).length;
  return { boundary: wraps === 0 ? 'open' : wraps === dimensions ? 'periodic' : 'mixed', periodic };
}

function resolveObstacles(spec: LatticeSpec, strides: readonly number[], cells: number, map: Uint8Array | undefined): ObstacleRule {
  const obstacles = spec.obstacles;
  if (obstacles === undefined) return { kind: 'none' };
  if ('map' in obstacles) {
    if (!map) throw new LatticeValidationError('lattice_invalid', 'obstacles.map', `the obstacle map ${obstacles.map} is not loaded`);
    if (map.byteLength !== Math.ceil(cells / 8)) {
      throw new LatticeValidationError('lattice_invalid', 'obstacles.map', `the obstacle map holds ${map.byteLength * 8} bits for ${cells} cells`);
    }
    return { kind: 'map', bits: map };
  }
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
