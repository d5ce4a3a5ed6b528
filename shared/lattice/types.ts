/** Types of the lattice model, derived from the schemas so the two never drift apart. */
import type { z } from 'zod';
import type {
  BoundarySchema,
  BoundarySpecSchema,
  ComponentsParamsSchema,
  ComponentsResultSchema,
  DiffusionParamsSchema,
  DiffusionResultSchema,
  ConnectivitySchema,
  DistanceFieldParamsSchema,
  DistanceFieldResultSchema,
  MinCostPathParamsSchema,
  MinCostPathResultSchema,
  PercolationParamsSchema,
  PercolationResultSchema,
  KernelTypeSchema,
  LatticeSpecObjectSchema,
  ShortestPathParamsSchema,
  ShortestPathResultSchema,
} from './schema.ts';

/** `open` or `periodic`. */
export type Boundary = z.output<typeof BoundarySchema>;

/** A spec's boundary: one {@link Boundary} for every axis, or one per axis. */
export type BoundarySpec = z.output<typeof BoundarySpecSchema>;

/** A lattice spec as a client sends it (boundary optional). */
export type LatticeSpecInput = z.input<typeof LatticeSpecObjectSchema>;

/** A lattice spec after parsing (boundary filled in). */
export type LatticeSpec = z.output<typeof LatticeSpecObjectSchema>;

/** A kernel type, i.e. a job `type`. */
export type KernelType = z.output<typeof KernelTypeSchema>;

export type ShortestPathParams = z.output<typeof ShortestPathParamsSchema>;
/** Shortest-path parameters as a client sends them (connectivity optional). */
export type ShortestPathParamsInput = z.input<typeof ShortestPathParamsSchema>;
export type ComponentsParams = z.output<typeof ComponentsParamsSchema>;
/** Components parameters as a client sends them (connectivity optional). */
export type ComponentsParamsInput = z.input<typeof ComponentsParamsSchema>;
export type DiffusionParams = z.output<typeof DiffusionParamsSchema>;
/** Diffusion parameters as a client sends them (sources and initial optional). */
export type DiffusionParamsInput = z.input<typeof DiffusionParamsSchema>;

export type DistanceFieldParams = z.output<typeof DistanceFieldParamsSchema>;
/** Distance-field parameters as a client sends them (connectivity optional). */
export type DistanceFieldParamsInput = z.input<typeof DistanceFieldParamsSchema>;
export type MinCostPathParams = z.output<typeof MinCostPathParamsSchema>;
/** Minimum-cost-path parameters as a client sends them (connectivity optional). */
export type MinCostPathParamsInput = z.input<typeof MinCostPathParamsSchema>;
/** `axis` or `full`. */
export type Connectivity = z.output<typeof ConnectivitySchema>;

export type ShortestPathResult = z.output<typeof ShortestPathResultSchema>;
export type DistanceFieldResult = z.output<typeof DistanceFieldResultSchema>;
export type PercolationParams = z.output<typeof PercolationParamsSchema>;
/** Percolation parameters as a client sends them (points optional). */
export type PercolationParamsInput = z.input<typeof PercolationParamsSchema>;
export type PercolationResult = z.output<typeof PercolationResultSchema>;
export type MinCostPathResult = z.output<typeof MinCostPathResultSchema>;
export type ComponentsResult = z.output<typeof ComponentsResultSchema>;
export type DiffusionResult = z.output<typeof DiffusionResultSchema>;

/** Parameters of each kernel type, parsed. */
export interface KernelParamsByType {
  shortest_path: ShortestPathParams;
  components: ComponentsParams;
  diffusion: DiffusionParams;
  distance_field: DistanceFieldParams;
  min_cost_path: MinCostPathParams;
  percolation: PercolationParams;
}

/** Parameters of each kernel type, as a client sends them. */
export interface KernelParamsInputByType {
  shortest_path: ShortestPathParamsInput;
  components: ComponentsParamsInput;
  diffusion: DiffusionParamsInput;
  distance_field: DistanceFieldParamsInput;
  min_cost_path: MinCostPathParamsInput;
  percolation: PercolationParamsInput;
}

/** Result of each kernel type. */
export interface KernelResultByType {
  shortest_path: ShortestPathResult;
  components: ComponentsResult;
  diffusion: DiffusionResult;
  distance_field: DistanceFieldResult;
  min_cost_path: MinCostPathResult;
  percolation: PercolationResult;
}

/** How a resolved lattice decides which cells are blocked. */
export type ObstacleRule =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'procedural';
      readonly density: number;
      readonly seed: number;
      /** `floor(density · 2^32)`: a cell is blocked when its hash is below it. */
      readonly threshold: number;
      /** `imul(seed, 0x9e3779b9) >>> 0`. */
      readonly offset: number;
    }
  | {
      readonly kind: 'explicit';
      /** Row-major indices of the blocked cells, sorted ascending, without duplicates. */
      readonly blocked: Float64Array;
    }
  | {
      readonly kind: 'map';
      /**
       * An uploaded map, one bit per cell in row-major order: cell i is blocked when bit `i & 7`
       * of byte `i >> 3` is 1 (numpy's `packbits(…, bitorder='little')`). Usually shared memory.
       */
      readonly bits: Uint8Array;
    };

/**
 * A validated lattice with its index arithmetic precomputed. Plain data (structured-cloneable),
 * so it crosses into kernel threads as is.
 */
export interface Lattice {
  readonly shape: readonly number[];
  /** Row-major strides: `strides[d-1] = 1`, `strides[a] = strides[a+1] · shape[a+1]`. */
  readonly strides: readonly number[];
  readonly dimensions: number;
  readonly cells: number;
  /**
   * The boundary of every axis, or `mixed` when some axes wrap and others do not: kernels that
   * read only this field serve `open` and `periodic` alone (the pool sends `mixed` elsewhere).
   */
  readonly boundary: Boundary | 'mixed';
  /** Per axis, whether it is periodic: what kernels that serve every boundary read. */
  readonly periodic: readonly boolean[];
  readonly obstacles: ObstacleRule;
}

/** A lattice's index arithmetic without its obstacles: what job parameters are checked against. */
export type LatticeGeometry = Pick<Lattice, 'shape' | 'strides' | 'dimensions'>;
