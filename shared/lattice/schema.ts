/**
 * Zod schemas for lattice specs, per-kernel job parameters and kernel results. The API reuses
 * them for request validation and OpenAPI, so they stay plain zod objects with descriptions.
 * Checks that need the lattice's shape (a cell inside it, alpha stable for its dimension) live
 * in `validate.ts`; `LatticeSpecSchema` runs the lattice ones as a refinement.
 */
import { z } from 'zod';
import {
  DISTANCE_HISTOGRAM_BINS,
  MAX_CELL_COST,
  MAX_CELLS,
  MAX_DIFFUSION_SOURCES,
  MAX_FIELD_SOURCES,
  MAX_PATH_PAIRS,
  MAX_PERCOLATION_POINTS,
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

/** Boundary condition of an axis. */
export const BoundarySchema = z
  .enum(['open', 'periodic'])
  .describe('open: the lattice ends at its faces; periodic: every axis wraps around');

/** A spec's boundary: one for every axis, or one per axis (igraph's `periodic` vector). */
export const BoundarySpecSchema = z
  .union([
    BoundarySchema,
    z
      .array(BoundarySchema)
      .min(MIN_DIMENSIONS)
      .max(MAX_DIMENSIONS)
      .describe('One boundary per axis, axis 0 first; as many as the lattice has axes (e.g. ["periodic", "open"]: a cylinder)'),
  ])
  .describe('open, periodic, or one of them per axis');

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
    boundary: BoundarySpecSchema.default('open'),
    obstacles: ObstaclesSchema.optional(),
  })
  .strict()
  .describe(`A d-dimensional grid lattice of at most 2^32 cells`);

/** A lattice spec, with every check that needs only the spec itself (shape, cell count, obstacles in range). */
export const LatticeSpecSchema = LatticeSpecObjectSchema.superRefine((spec, ctx) => {
  const issue = latticeIssue(spec);
  if (issue) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, params: { code: issue.code } });
});

/** Which cells are neighbours: along the axes only, or every cell of the surrounding 3^d block. */
export const ConnectivitySchema = z
  .enum(['axis', 'full'])
  .describe('axis: the 2·d cells one step along an axis (von Neumann); full: the 3^d − 1 cells of the surrounding block (Moore, diagonals included)');

/** Parameters of a `shortest_path` job. */
export const ShortestPathParamsSchema = z
  .object({
    start: CellSchema.optional().describe('First cell of the path; always open. Give start and end, or pairs'),
    end: CellSchema.optional().describe('Last cell of the path; always open'),
    pairs: z
      .array(z.object({ start: CellSchema, end: CellSchema }).strict())
      .min(1)
      .max(MAX_PATH_PAIRS)
      .optional()
      .describe(`Up to ${MAX_PATH_PAIRS} pairs answered in one job on one materialised lattice; every pair's cells are open`),
    connectivity: ConnectivitySchema.default('axis'),
  })
  .strict()
  // The issue names the field that is missing (or the one given beside pairs).
  .superRefine((p, ctx) => {
    if (p.pairs !== undefined) {
      if (p.start !== undefined || p.end !== undefined) {
        ctx.addIssue({ code: 'custom', message: 'give start and end, or pairs, not both', path: [p.start !== undefined ? 'start' : 'end'] });
      }
      return;
    }
    for (const key of ['start', 'end'] as const) {
      if (p[key] === undefined) ctx.addIssue({ code: 'custom', message: `give ${key} (or pairs)`, path: [key] });
    }
  })
  .describe('Shortest path between two cells, or between each of up to 1,000 pairs');

/** Parameters of a `components` job (none). */
export const ComponentsParamsSchema = z
  .object({ connectivity: ConnectivitySchema.default('axis') })
  .strict()
  .describe('Connected components of the open cells');

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

/** A face of the lattice: every cell whose coordinate on `axis` is 0 (`low`) or the last one (`high`). */
export const FaceSchema = z
  .object({
    axis: z.int().min(0).max(MAX_DIMENSIONS - 1).describe('The axis the face is normal to'),
    side: z.enum(['low', 'high']).describe('low: coordinate 0 on the axis; high: the last coordinate'),
  })
  .strict()
  .describe('A face of the lattice; its open cells are the sources');

/** A procedural cost map: the cost of entering each cell, from the public rule. */
export const ProceduralCostsSchema = z
  .object({
    max: z.int().min(1).max(MAX_CELL_COST).describe(`Largest cell cost, 1 to ${MAX_CELL_COST}`),
    seed: z.int().min(0).max(2 ** 32 - 1).describe('Seed of the rule, an unsigned 32-bit integer'),
  })
  .strict()
  .describe('Cell costs from the public rule: cost(i) = 1 + lowbias32((i + imul(seed, 0x85ebca6b)) >>> 0) mod max');

/** Parameters of a `distance_field` job. */
export const DistanceFieldParamsSchema = z
  .object({
    sources: z
      .array(CellSchema)
      .min(1)
      .max(MAX_FIELD_SOURCES)
      .optional()
      .describe(`Source cells (distance 0), at most ${MAX_FIELD_SOURCES}; always open. Give sources or face`),
    face: FaceSchema.optional(),
    connectivity: ConnectivitySchema.default('axis'),
    costs: ProceduralCostsSchema.optional().describe(
      "With a cost map, a cell's distance is the least sum of the costs of the cells entered from a source (the source's own cost not counted), as min_cost_path counts; without, steps",
    ),
  })
  .strict()
  .refine((p) => (p.sources === undefined) !== (p.face === undefined), { error: 'give exactly one of sources and face', path: ['sources'] })
  .describe('Distance from the nearest source to every reachable open cell: steps (multi-source breadth-first search) or, with costs, the least cost (multi-source Dial)');

/** Parameters of a `min_cost_path` job. */
export const MinCostPathParamsSchema = z
  .object({
    start: CellSchema.describe('First cell of the path; always open'),
    end: CellSchema.describe('Last cell of the path; always open'),
    costs: ProceduralCostsSchema,
    connectivity: ConnectivitySchema.default('axis'),
  })
  .strict()
  .describe("Minimum-cost path on a per-cell cost map: a path's cost is the sum of the costs of the cells it enters (every cell but start)");

/** Parameters of a `percolation` job. */
export const PercolationParamsSchema = z
  .object({
    seed: z.int().min(0).max(2 ** 32 - 1).describe('Seed of the obstacle rule; the lattice\'s own obstacles are not used'),
    points: z
      .int()
      .min(2)
      .max(MAX_PERCOLATION_POINTS)
      .default(101)
      .describe(`Densities sampled, evenly from 0 to 1 (k / (points − 1)); at most ${MAX_PERCOLATION_POINTS}`),
  })
  .strict()
  .describe('Largest cluster and spanning of axis 0 against the density of the obstacle rule with one seed, in one run (Newman–Ziff)');

/** The kernel types, each a job `type`. */
export const KernelTypeSchema = z
  .enum(['shortest_path', 'components', 'diffusion', 'distance_field', 'min_cost_path', 'percolation'])
  .describe('Kernel to run');

/**
 * Where a result's full arrays are (docs/http-api.md › Artefacts), set by the worker once it has
 * stored them; on a plan that keeps none, `stored` is false and `note` says the result is its summary.
 */
export const ResultArtefactsSchema = z
  .object({
    stored: z.boolean().describe('Whether the full arrays were kept as artefacts'),
    list: z.string().optional().describe('The artefact list (GET)'),
    links: z.record(z.string(), z.string()).optional().describe('Each artefact by name: its .npy download'),
    picture: z.string().optional().describe('The PNG rendering (2-D lattices; ?slice=axis:index for more axes)'),
    note: z.string().optional().describe('Why nothing was kept'),
  })
  .describe("The job's artefacts");

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
    pairs: z
      .array(
        z.object({
          reachable: z.boolean(),
          length: z.int().min(0).nullable(),
          path: z.array(CellSchema).describe('Empty when unreachable or omitted'),
          path_omitted: z.boolean().optional().describe(`Present and true once the pairs' paths together pass ${MAX_RETURNED_PATH_CELLS} cells`),
          visited: z.int().min(0).describe('Cells the search from this pair\'s start reached (shared by pairs with the same start)'),
        }),
      )
      .optional()
      .describe('With `pairs`: one result per pair, in order. The top-level fields then sum up: reachable when every pair is, length null, path empty, visited over all searches'),
    memory_bytes: z.int().min(0).describe('Working memory the kernel allocated'),
    artefacts: ResultArtefactsSchema.optional(),
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
    artefacts: ResultArtefactsSchema.optional(),
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
    artefacts: ResultArtefactsSchema.optional(),
  })
  .describe('Diffusion result');

/** Result of a `distance_field` job. */
export const DistanceFieldResultSchema = z
  .object({
    sources: z.int().min(0).describe('Open source cells (a face\'s blocked cells are no sources)'),
    reached: z.int().min(0).describe('Open cells at a finite distance, the sources included'),
    unreachable: z.int().min(0).describe('Open cells no source reaches'),
    max: z.int().min(0).nullable().describe('Largest distance; null when no cell is reached'),
    mean: z.number().min(0).nullable().describe('Mean distance over the reached cells; null when none is'),
    histogram: z
      .object({
        bin_width: z.int().min(1).describe('Distances per bin, a power of two'),
        counts: z.array(z.int().min(0)).describe(`Bin k counts reached cells at distance in [k·bin_width, (k+1)·bin_width); at most ${DISTANCE_HISTOGRAM_BINS} bins, ending at the largest distance's bin`),
      })
      .describe('Distances of the reached cells'),
    memory_bytes: z.int().min(0).describe('Working memory the kernel allocated'),
  })
  .describe('Distance field summary');

/** Result of a `min_cost_path` job. */
export const MinCostPathResultSchema = z
  .object({
    reachable: z.boolean().describe('Whether end can be reached from start'),
    cost: z.int().min(0).nullable().describe('Sum of the costs of the cells the path enters (start excluded, end included); null when unreachable'),
    length: z.int().min(0).nullable().describe('Steps of the returned path; null when unreachable'),
    path: z.array(CellSchema).describe('A minimum-cost path as coordinates, start to end; empty when unreachable'),
    path_omitted: z
      .boolean()
      .optional()
      .describe(`Present and true when the path has more than ${MAX_RETURNED_PATH_CELLS} cells and is left out`),
    visited: z.int().min(0).describe('Cells whose cost was settled'),
    memory_bytes: z.int().min(0).describe('Working memory the kernel allocated'),
  })
  .describe('Minimum-cost path result');

/** Result of a `percolation` job. */
export const PercolationResultSchema = z
  .object({
    seed: z.int().min(0).describe('The seed of the obstacle rule'),
    points: z
      .array(
        z.object({
          density: z.number().min(0).max(1).describe('Obstacle density: the lattice is {density, seed} under the public rule'),
          open_cells: z.int().min(0),
          largest: z.int().min(0).describe('Cells of the largest cluster of open cells (2·d neighbours)'),
          largest_fraction: z.number().min(0).max(1).describe('largest ÷ all cells of the lattice'),
          spans_axis0: z.boolean().describe('Whether a cluster holds a cell on both the first and the last layer of axis 0'),
        }),
      )
      .describe('One point per sampled density, ascending'),
    spans_axis0_below_density: z
      .number()
      .nullable()
      .describe('Axis 0 is spanned at every density below this (exact for this seed); null when never, not even with every cell open'),
    memory_bytes: z.int().min(0).describe('Working memory the kernel allocated'),
  })
  .describe('Percolation curve');

/** Each kernel type's parameter schema, shared by the API (producer) and the worker (consumer). */
export const KERNEL_PARAMS_SCHEMAS = {
  shortest_path: ShortestPathParamsSchema,
  components: ComponentsParamsSchema,
  diffusion: DiffusionParamsSchema,
  distance_field: DistanceFieldParamsSchema,
  min_cost_path: MinCostPathParamsSchema,
  percolation: PercolationParamsSchema,
} as const;
