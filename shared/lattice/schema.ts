/**
 * Zod schemas for lattice specs, per-kernel job parameters and kernel results. The API reuses
 * them for request validation and OpenAPI, so they stay plain zod objects with descriptions.
 * Checks that need the lattice's shape (a cell inside it, alpha stable for its dimension) live
 * in `validate.ts`; `LatticeSpecSchema` runs the lattice ones as a refinement.
 */
import { z } from 'zod';
import {
  MAX_CELLS,
  MAX_DIFFUSION_SOURCES,
  MAX_DIFFUSION_STEPS,
  MAX_DIMENSIONS,
  MAX_EXPLICIT_BLOCKED,
  MAX_RETURNED_PATH_CELLS,
  MIN_DIMENSIONS,
} from './limits.ts';
import { latticeIssue } from './validate.ts';

/** Largest absolute heat a source or impulse may carry, far inside float32's range. */
const MAX_HEAT = 1e15;

/** Cell coordinates, one non-negative integer per axis. */
export const CellSchema = z
  .array(z.int().min(0).max(MAX_CELLS - 1))
  .min(MIN_DIMENSIONS)
  .max(MAX_DIMENSIONS)
  .describe('Cell coordinates, one non-negative integer per axis, axis 0 first');

/** Obstacles listed cell by cell. */
export const ExplicitObstaclesSchema = z
  .object({
    blocked: z
      .array(CellSchema)
      .max(MAX_EXPLICIT_BLOCKED)
      .describe(
        `Blocked cells, at most ${MAX_EXPLICIT_BLOCKED} and at most the lattice's cell count; stored sorted by cell index, without repeats`,
      ),
  })
  .strict()
  .describe('Obstacles given explicitly');

/** Obstacles from the public lowbias32 rule. */
export const ProceduralObstaclesSchema = z
  .object({
    density: z.number().min(0).max(1).describe('Probability that a cell is blocked, in [0, 1]'),
    seed: z.int().min(0).max(2 ** 32 - 1).describe('Seed of the rule, an unsigned 32-bit integer'),
  })
  .strict()
  .describe(
    'Obstacles from the public rule: cell i is blocked iff lowbias32((i + imul(seed, 0x9e3779b9)) >>> 0) < floor(density * 2^32)',
  );

/** Obstacles from an uploaded map (POST /api/lattices/upload). */
export const MapObstaclesSchema = z
  .object({
    map: z.uuid().describe('Id of the uploaded obstacle map (a blob of packed bits, one per cell, 1 = blocked)'),
  })
  .strict()
  .describe('Obstacles from an uploaded map; its shape must be the lattice\'s');

/** Any kind of obstacles. */
export const ObstaclesSchema = z
  .union([ExplicitObstaclesSchema, ProceduralObstaclesSchema, MapObstaclesSchema])
  .describe('Blocked cells, explicit, procedural or an uploaded map; none when absent');

/** Boundary condition on every axis. */
export const BoundarySchema = z
  .enum(['open', 'periodic'])
  .describe('open: the lattice ends at its faces; periodic: every axis wraps around');

/**
 * A lattice spec's structure without the cross-field checks, for composition (`.extend`,
 * OpenAPI). Validate submissions with {@link LatticeSpecSchema} or `checkLatticeSpec`.
 */
export const LatticeSpecObjectSchema = z
  .object({
    shape: z
      .array(z.int().min(1).max(MAX_CELLS))
      .min(MIN_DIMENSIONS)
      .max(MAX_DIMENSIONS)
      .optional()
      .describe(`Side length of each axis, ${MIN_DIMENSIONS} to ${MAX_DIMENSIONS} axes; or give dimensions and size`),
    dimensions: z
      .int()
      .min(MIN_DIMENSIONS)
      .max(MAX_DIMENSIONS)
      .optional()
      .describe('Number of axes of a cube lattice (with size)'),
    size: z.int().min(1).max(MAX_CELLS).optional().describe('Side length of a cube lattice (with dimensions)'),
    boundary: BoundarySchema.default('open'),
    obstacles: ObstaclesSchema.optional(),
  })
  .strict()
  .describe(`A d-dimensional grid lattice of at most 2^32 cells`);

/** A lattice spec, with every check that needs only the spec itself (shape, cell count, obstacles in range). */
export const LatticeSpecSchema = LatticeSpecObjectSchema.superRefine((spec, ctx) => {
  const issue = latticeIssue(spec);
  if (issue) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, params: { code: issue.code } });
});

/** Parameters of a `shortest_path` job. */
export const ShortestPathParamsSchema = z
  .object({
    start: CellSchema.describe('First cell of the path; always open'),
    end: CellSchema.describe('Last cell of the path; always open'),
  })
  .strict()
  .describe('Shortest path between two cells');

/** Parameters of a `components` job (none). */
export const ComponentsParamsSchema = z.object({}).strict().describe('Connected components of the open cells');

/** A point of heat. */
export const HeatPointSchema = z
  .object({
    cell: CellSchema,
    value: z.number().min(-MAX_HEAT).max(MAX_HEAT).describe('Heat added at the cell'),
  })
  .strict();

/** Parameters of a `diffusion` job. */
export const DiffusionParamsSchema = z
  .object({
    steps: z.int().min(0).max(MAX_DIFFUSION_STEPS).describe('Explicit time steps to take'),
    alpha: z
      .number()
      .gt(0)
      .max(0.5)
      .describe('Diffusion coefficient per step; stable only up to 1/(2·dimensions), which is checked'),
    sources: z
      .array(HeatPointSchema)
      .max(MAX_DIFFUSION_SOURCES)
      .default([])
      .describe('Constant sources: each adds its value at its cell at the start of every step'),
    initial: z
      .array(HeatPointSchema)
      .max(MAX_DIFFUSION_SOURCES)
      .default([])
      .describe('Heat placed at cells before the first step (the field is zero elsewhere)'),
  })
  .strict()
  .describe('Explicit heat diffusion on a float32 field; blocked cells insulate, faces of an open lattice too');

/** The kernel types, each a job `type`. */
export const KernelTypeSchema = z.enum(['shortest_path', 'components', 'diffusion']).describe('Kernel to run');

/** Result of a `shortest_path` job. */
export const ShortestPathResultSchema = z
  .object({
    reachable: z.boolean().describe('Whether end can be reached from start'),
    length: z.int().min(0).nullable().describe('Steps on a shortest path; null when unreachable'),
    path: z.array(CellSchema).describe('A shortest path as coordinates, start to end; empty when unreachable'),
    path_omitted: z
      .boolean()
      .optional()
      .describe(`Present and true when the path has more than ${MAX_RETURNED_PATH_CELLS} cells and is left out`),
    visited: z.int().min(0).describe('Cells the search reached'),
    memory_bytes: z.int().min(0).describe('Working memory the kernel allocated'),
  })
  .describe('Shortest path result');

/** Result of a `components` job. */
export const ComponentsResultSchema = z
  .object({
    count: z.int().min(0).describe('Clusters of open cells'),
    largest: z.int().min(0).describe('Cells in the largest cluster; 0 when there is none'),
    histogram: z
      .array(z.int().min(0))
      .describe('Bin k counts clusters of size in [2^k, 2^(k+1)); ends at the largest cluster\'s bin'),
    spans_axis0: z.boolean().describe('Whether a cluster holds a cell on both the first and the last layer of axis 0'),
    memory_bytes: z.int().min(0).describe('Working memory the kernel allocated'),
  })
  .describe('Connected components result');

/** Result of a `diffusion` job. */
export const DiffusionResultSchema = z
  .object({
    total_heat: z.number().describe('Sum of the field over open cells'),
    min: z.number().describe('Least value on an open cell (0 when none is open)'),
    max: z.number().describe('Greatest value on an open cell (0 when none is open)'),
    mean: z.number().describe('total_heat divided by the number of open cells'),
    field: z
      .object({
        shape: z.array(z.int().min(1)).describe('Shape of the downsampled field'),
        values: z.array(z.number()).describe('Row-major mean heat per cell of each block (blocked cells count as 0)'),
      })
      .describe('The field downsampled to at most 4096 values by block means'),
    memory_bytes: z.int().min(0).describe('Working memory the kernel allocated'),
  })
  .describe('Diffusion result');

/** Each kernel type's parameter schema, shared by the API (producer) and the worker (consumer). */
export const KERNEL_PARAMS_SCHEMAS = {
  shortest_path: ShortestPathParamsSchema,
  components: ComponentsParamsSchema,
  diffusion: DiffusionParamsSchema,
} as const;

/** Each kernel type's result schema. */
export const KERNEL_RESULT_SCHEMAS = {
  shortest_path: ShortestPathResultSchema,
  components: ComponentsResultSchema,
  diffusion: DiffusionResultSchema,
} as const;
