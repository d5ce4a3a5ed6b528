/**
 * Job parameters checked against their lattice and turned into cell indices: the one form the
 * kernel threads, the reference implementations and the API's validation all share.
 */
import { LatticeValidationError, formatField } from './errors.ts';
import { indexOf } from './geometry.ts';
import { resolveLattice, parseWith } from './resolve.ts';
import { KERNEL_PARAMS_SCHEMAS, KernelTypeSchema } from './schema.ts';
import { costSeedOffset } from './cost-rule.ts';
import type {
  Connectivity,
  DiffusionParams,
  DistanceFieldParams,
  KernelParamsByType,
  KernelType,
  Lattice,
  LatticeGeometry,
  MinCostPathParams,
} from './types.ts';
import { cellIssue } from './validate.ts';

/** Heat at one cell, by index. */
export interface HeatPoint {
  index: number;
  value: number;
}

/** `shortest_path` parameters as cell indices. */
export interface ResolvedShortestPath {
  type: 'shortest_path';
  /** With pairs, the first pair's cells. */
  start: number;
  end: number;
  /** The pairs of a many-pairs job; null for one path. */
  pairs: Array<{ start: number; end: number }> | null;
  connectivity: Connectivity;
}

/** `components` parameters. */
export interface ResolvedComponents {
  type: 'components';
  connectivity: Connectivity;
}

/** `diffusion` parameters as cell indices. */
export interface ResolvedDiffusion {
  type: 'diffusion';
  steps: number;
  alpha: number;
  sources: HeatPoint[];
  initial: HeatPoint[];
}

/** `distance_field` parameters: source cells as indices, or a face. */
export interface ResolvedDistanceField {
  type: 'distance_field';
  /** Source cell indices, without repeats; null when the sources are a face. */
  sources: number[] | null;
  face: { axis: number; side: 'low' | 'high' } | null;
  connectivity: Connectivity;
  /** The cost rule's constants of a weighted field (`costSeedOffset(seed)`); null for steps. */
  costs: { maxCost: number; costOffset: number } | null;
}

/** `min_cost_path` parameters as cell indices and the cost rule's constants. */
export interface ResolvedMinCostPath {
  type: 'min_cost_path';
  start: number;
  end: number;
  /** Largest cell cost. */
  maxCost: number;
  /** `costSeedOffset(seed)`. */
  costOffset: number;
  connectivity: Connectivity;
}

/** `percolation` parameters. */
export interface ResolvedPercolation {
  type: 'percolation';
  seed: number;
  points: number;
}

/** Resolved parameters of any kernel type. */
export type ResolvedParams =
  | ResolvedShortestPath
  | ResolvedComponents
  | ResolvedDiffusion
  | ResolvedDistanceField
  | ResolvedMinCostPath
  | ResolvedPercolation;

/** Resolved parameters of one kernel type. */
export type ResolvedParamsOf<T extends KernelType> = Extract<ResolvedParams, { type: T }>;

/** A lattice and parameters ready for a kernel. */
export interface ResolvedJob<T extends KernelType = KernelType> {
  lattice: Lattice;
  params: ResolvedParamsOf<T>;
}

/**
 * Validates a job completely and cheaply (cost: the size of the spec and parameters, never the
 * number of cells), so the API can refuse a bad submission with a 400 before queueing it.
 *
 * @param type - the job type
 * @param spec - the lattice spec, untrusted
 * @param params - the job parameters, untrusted
 * @param map - the packed bits of the spec's uploaded obstacle map, when it names one
 * @throws LatticeValidationError naming the code and field at fault; parameter fields start with `params.`
 */
export function resolveJob<T extends KernelType>(type: T, spec: unknown, params: unknown, map?: Uint8Array): ResolvedJob<T> {
  checkType(type);
  const lattice = resolveLattice(spec, map);
  return { lattice, params: resolveParams(type, lattice, params) };
}

/**
 * Validates one kernel type's parameters against a lattice and resolves cells to indices.
 *
 * @throws LatticeValidationError with a field starting with `params.`
 */
export function resolveParams<T extends KernelType>(type: T, lattice: LatticeGeometry, input: unknown): ResolvedParamsOf<T> {
  return resolveParsedParams(type, lattice, parseParams(type, input));
}

/**
 * Parses one kernel type's parameters (defaults filled in), before they meet a lattice.
 *
 * @throws LatticeValidationError with a field starting with `params.`
 */
export function parseParams<T extends KernelType>(type: T, input: unknown): KernelParamsByType[T] {
  checkType(type);
  return parseWith(KERNEL_PARAMS_SCHEMAS[type], input ?? {}, 'params_invalid', ['params']) as KernelParamsByType[T];
}

/**
 * Checks parsed parameters against a lattice (cells inside its shape, a stable alpha) and
 * resolves cells to indices.
 *
 * @throws LatticeValidationError with a field starting with `params.`
 */
export function resolveParsedParams<T extends KernelType>(type: T, lattice: LatticeGeometry, params: KernelParamsByType[T]): ResolvedParamsOf<T> {
  return resolveAny({ type, params } as ParsedParams, lattice) as ResolvedParamsOf<T>;
}

function checkType(type: KernelType): void {
  if (!KernelTypeSchema.safeParse(type).success) {
    throw new LatticeValidationError('params_invalid', 'type', `unknown job type ${JSON.stringify(type)}`);
  }
}

/** Parsed parameters with their type, so a switch on the type narrows them. */
type ParsedParams = { [T in KernelType]: { type: T; params: KernelParamsByType[T] } }[KernelType];

function resolveAny(parsed: ParsedParams, lattice: LatticeGeometry): ResolvedParams {
  switch (parsed.type) {
    case 'shortest_path': {
      const { pairs, connectivity } = parsed.params;
      if (pairs !== undefined) {
        const resolved = pairs.map((pair, i) => ({
          start: cellIndex(lattice, pair.start, ['params', 'pairs', i, 'start'], 'start'),
          end: cellIndex(lattice, pair.end, ['params', 'pairs', i, 'end'], 'end'),
        }));
        return { type: 'shortest_path', start: resolved[0]!.start, end: resolved[0]!.end, pairs: resolved, connectivity };
      }
      // The schema gives both ends when there are no pairs.
      return {
        type: 'shortest_path',
        start: cellIndex(lattice, parsed.params.start!, ['params', 'start'], 'start'),
        end: cellIndex(lattice, parsed.params.end!, ['params', 'end'], 'end'),
        pairs: null,
        connectivity,
      };
    }
    case 'components':
      return { type: 'components', connectivity: parsed.params.connectivity };
    case 'diffusion':
      return resolveDiffusion(lattice, parsed.params);
    case 'distance_field':
      return resolveDistanceField(lattice, parsed.params);
    case 'min_cost_path':
      return resolveMinCostPath(lattice, parsed.params);
    case 'percolation': {
      const cells = lattice.shape.reduce((product, side) => product * side, 1);
      if (cells > MAX_MIN_COST_PATH_CELLS) {
        throw new LatticeValidationError('params_invalid', 'type', `percolation runs on lattices of at most 2^31 − 1 cells; this one has ${cells}`);
      }
      return { type: 'percolation', seed: parsed.params.seed, points: parsed.params.points };
    }
  }
}

function resolveDistanceField(lattice: LatticeGeometry, params: DistanceFieldParams): ResolvedDistanceField {
  const { face, connectivity } = params;
  let costs: ResolvedDistanceField['costs'] = null;
  if (params.costs !== undefined) {
    const cells = lattice.shape.reduce((product, side) => product * side, 1);
    if (cells > MAX_MIN_COST_PATH_CELLS) {
      throw new LatticeValidationError('params_invalid', 'params.costs', `a distance field on costs runs on lattices of at most 2^31 − 1 cells; this one has ${cells}`);
    }
    costs = { maxCost: params.costs.max, costOffset: costSeedOffset(params.costs.seed) };
  }
  if (face !== undefined) {
    if (face.axis >= lattice.dimensions) {
      throw new LatticeValidationError(
        'params_invalid',
        'params.face.axis',
        `params.face.axis: ${face.axis} is not an axis of a lattice of ${lattice.dimensions} dimensions`,
      );
    }
    return { type: 'distance_field', sources: null, face, connectivity, costs };
  }
  const cells = (params.sources ?? []).map((cell, i) => cellIndex(lattice, cell, ['params', 'sources', i], 'source'));
  return { type: 'distance_field', sources: [...new Set(cells)], face: null, connectivity, costs };
}

/** Most cells of a min_cost_path or percolation lattice: their cell indices are small integers (and 9 to 18 bytes a cell is 18 GiB or more there). */
export const MAX_MIN_COST_PATH_CELLS = 2 ** 31 - 1;

function resolveMinCostPath(lattice: LatticeGeometry, params: MinCostPathParams): ResolvedMinCostPath {
  const cells = lattice.shape.reduce((product, side) => product * side, 1);
  if (cells > MAX_MIN_COST_PATH_CELLS) {
    throw new LatticeValidationError('params_invalid', 'type', `min_cost_path runs on lattices of at most 2^31 − 1 cells; this one has ${cells}`);
  }
  return {
    type: 'min_cost_path',
    start: cellIndex(lattice, params.start, ['params', 'start'], 'start'),
    end: cellIndex(lattice, params.end, ['params', 'end'], 'end'),
    maxCost: params.costs.max,
    costOffset: costSeedOffset(params.costs.seed),
    connectivity: params.connectivity,
  };
}

function resolveDiffusion(lattice: LatticeGeometry, params: DiffusionParams): ResolvedDiffusion {
  // Explicit steps are stable only while every cell keeps a non-negative share of its own heat.
  const maxAlpha = 1 / (2 * lattice.dimensions);
  if (params.alpha > maxAlpha) {
    throw new LatticeValidationError(
      'params_invalid',
      'params.alpha',
      `params.alpha: ${params.alpha} is unstable on ${lattice.dimensions} dimensions; it must be at most 1/(2·${lattice.dimensions}) = ${maxAlpha}`,
    );
  }
  const points = (list: DiffusionParams['sources'], key: string): HeatPoint[] =>
    list.map((point, i) => ({
      index: cellIndex(lattice, point.cell, ['params', key, i, 'cell'], `${key} cell`),
      value: point.value,
    }));
  return {
    type: 'diffusion',
    steps: params.steps,
    alpha: params.alpha,
    sources: points(params.sources, 'sources'),
    initial: points(params.initial, 'initial'),
  };
}

function cellIndex(lattice: LatticeGeometry, coords: number[], path: (string | number)[], what: string): number {
  const issue = cellIssue(coords, lattice.shape, path, what);
  if (issue) throw new LatticeValidationError(issue.code, formatField(issue.path), issue.message);
  return indexOf(lattice, coords);
}

/**
 * The job's own cells, which are always open whatever the obstacles say (docs/architecture.md › The lattice model): a
 * path's ends, the cells diffusion puts heat on, and a distance field's source cells (a face's cells are not forced open).
 */
export function jobOpenCells(params: ResolvedParams): number[] {
  switch (params.type) {
    case 'shortest_path':
      return params.pairs === null ? [params.start, params.end] : params.pairs.flatMap((pair) => [pair.start, pair.end]);
    case 'min_cost_path':
      return [params.start, params.end];
    case 'components':
    case 'percolation':
      return [];
    case 'distance_field':
      return params.sources ?? [];
    case 'diffusion':
      return [...params.sources.map((p) => p.index), ...params.initial.map((p) => p.index)];
  }
}
