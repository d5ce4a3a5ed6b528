/**
 * Job parameters checked against their lattice and turned into cell indices: the one form the
 * kernel threads, the reference implementations and the API's validation all share.
 */
import { LatticeValidationError, formatField } from './errors.ts';
import { indexOf } from './geometry.ts';
import { resolveLattice, parseWith } from './resolve.ts';
import { KERNEL_PARAMS_SCHEMAS, KernelTypeSchema } from './schema.ts';
import type { DiffusionParams, KernelParamsByType, KernelType, Lattice, LatticeGeometry } from './types.ts';
import { cellIssue } from './validate.ts';

/** Heat at one cell, by index. */
export interface HeatPoint {
  index: number;
  value: number;
}

/** `shortest_path` parameters as cell indices. */
export interface ResolvedShortestPath {
  type: 'shortest_path';
  start: number;
  end: number;
}

/** `components` has no parameters. */
export interface ResolvedComponents {
  type: 'components';
}

/** `diffusion` parameters as cell indices. */
export interface ResolvedDiffusion {
  type: 'diffusion';
  steps: number;
  alpha: number;
  sources: HeatPoint[];
  initial: HeatPoint[];
}

/** Resolved parameters of any kernel type. */
export type ResolvedParams = ResolvedShortestPath | ResolvedComponents | ResolvedDiffusion;

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
    case 'shortest_path':
      return {
        type: 'shortest_path',
        start: cellIndex(lattice, parsed.params.start, ['params', 'start'], 'start'),
        end: cellIndex(lattice, parsed.params.end, ['params', 'end'], 'end'),
      };
    case 'components':
      return { type: 'components' };
    case 'diffusion':
      return resolveDiffusion(lattice, parsed.params);
  }
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
 * path's ends, and the cells diffusion puts heat on.
 */
export function jobOpenCells(params: ResolvedParams): number[] {
  switch (params.type) {
    case 'shortest_path':
      return [params.start, params.end];
    case 'components':
      return [];
    case 'diffusion':
      return [...params.sources.map((p) => p.index), ...params.initial.map((p) => p.index)];
  }
}
