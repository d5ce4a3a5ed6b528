/**
 * Wire schemas of the lattice and job routes: the API validates requests and documents itself at
 * /openapi.json with them, and the SDK takes its types from them. Lattice specs and job
 * parameters use the lattice engine's own schemas; checks that need the lattice (a cell inside its shape, a stable alpha) run after
 * these, in `shared/jobs/lattice-checks.ts`.
 */
import './openapi-zod.ts';
import { z } from 'zod';
import { ARTEFACT_NAMES, OPT_IN_ARTEFACTS } from '../jobs/job-artefact-names.ts';
import { JOB_STATUSES } from '../jobs/types.ts';
import { LabelFilterSchema, LabelsSchema } from './labels.ts';
import {
  BoundarySpecSchema,
  CellSchema,
  ComponentsParamsSchema,
  ComponentsResultSchema,
  DiffusionParamsSchema,
  DiffusionResultSchema,
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
} from '../lattice/schema.ts';

export const IdParams = z.object({ id: z.uuid({ error: 'must be a UUID' }) });

/** `Idempotency-Key`: a retried POST with the same key returns the first answer's job. */
export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('Makes the POST safe to retry: the same key (within a tenant) returns the same job'),
});

const nameField = z.string().trim().min(1).max(200).describe('A name for people; not unique');

/**
 * The rules of a lattice spec JSON Schema can state: `shape`, or `dimensions` and `size` (a
 * cube), never both. The rest is in the descriptions: at most 2^32 cells, blocked cells inside
 * the shape and no more of them than it has cells.
 */
const SHAPE_NOT_WITH_CUBE = { dependentSchemas: { shape: { properties: { dimensions: false, size: false } } } };
const SHAPE_OR_CUBE = { oneOf: [{ required: ['shape'] }, { required: ['dimensions', 'size'] }], ...SHAPE_NOT_WITH_CUBE };

const SPEC_RULES =
  'Give `shape`, or `dimensions` and `size` for a cube, not both. At most 2^32 cells; each blocked cell has one coordinate per axis, inside the shape, and an explicit list names at most as many cells as the lattice has.';

// The lattice engine's schemas may be made before zod has `.openapi` (as in the worker): zod's
// own `.meta` names them for the document instead (`id` is the component's name).

/** A lattice spec as the document shows it: its structure and the rules above. */
const LatticeSpecDocumented = LatticeSpecObjectSchema.meta({ id: 'LatticeSpec', description: `A d-dimensional grid lattice. ${SPEC_RULES}`, ...SHAPE_OR_CUBE });

// ── Lattices ────────────────────────────────────────────────────────────────────────────────

export const CreateLatticeBody = LatticeSpecObjectSchema.extend({ name: nameField.optional() }).openapi('LatticeCreate', {
  description: `A lattice to store, with an optional name. ${SPEC_RULES}`,
  ...SHAPE_OR_CUBE,
});

export const UpdateLatticeBody = z
  .strictObject({
    name: nameField.nullable().optional(),
    shape: LatticeSpecObjectSchema.shape.shape,
    dimensions: LatticeSpecObjectSchema.shape.dimensions,
    size: LatticeSpecObjectSchema.shape.size,
    boundary: LatticeSpecObjectSchema.shape.boundary.unwrap().optional(),
    obstacles: LatticeSpecObjectSchema.shape.obstacles.nullable(),
  })
  .refine((body) => Object.values(body).some((v) => v !== undefined), { error: 'must change at least one field' })
  // As on creation: one change cannot make the lattice both a shape and a cube.
  .refine((body) => body.shape === undefined || (body.dimensions === undefined && body.size === undefined), {
    error: 'give either shape, or dimensions and size, not both',
    path: ['shape'],
  })
  .openapi('LatticeUpdate', {
    description:
      'Fields to change, at least one. `shape` replaces `dimensions` and `size` and the other way round (not both at once); the changed spec must still be valid (`dimensions` alone needs a cube to change). `obstacles: null` removes them',
    minProperties: 1,
    ...SHAPE_NOT_WITH_CUBE,
  });

export const LatticeSchema = z
  .object({
    id: z.uuid(),
    name: z.string().nullable(),
    version: z.number().int().describe('Starts at 1; each change of the spec adds one (jobs keep the version they were submitted with)'),
    // As stored, `boundary` is always there: required here, where a request may leave it out.
    spec: LatticeSpecObjectSchema.extend({ boundary: LatticeSpecObjectSchema.shape.boundary.unwrap() }).openapi({
      description: 'The spec as stored: boundary filled in, an explicit obstacle list sorted by cell index without repeats',
      ...SHAPE_OR_CUBE,
    }),
    dimensions: z.number().int(),
    shape: z.array(z.number().int()),
    cells: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Lattice');

export const LatticeSummarySchema = LatticeSchema.omit({ spec: true })
  .extend({
    boundary: BoundarySpecSchema,
    obstacles: z.enum(['none', 'explicit', 'procedural', 'map']).describe('How cells are blocked; GET the lattice for the spec'),
  })
  .openapi('LatticeSummary');

export const LatticeListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().describe('`next_cursor` of the previous page'),
});

export const LatticeListSchema = z.object({ data: z.array(LatticeSummarySchema), next_cursor: z.string().nullable() });

// ── Jobs ────────────────────────────────────────────────────────────────────────────────────

const latticeChoice = {
  labels: LabelsSchema.optional(),
  lattice_id: z.uuid({ error: 'must be a UUID' }).optional().describe('A stored lattice: the job runs on its current version'),
  lattice: LatticeSpecDocumented.optional().describe('An inline lattice spec, instead of lattice_id'),
};

/** Exactly one of `lattice_id` and `lattice`, as JSON Schema states it. */
const ONE_LATTICE = { oneOf: [{ required: ['lattice_id'] }, { required: ['lattice'] }] };

/**
 * `artefacts`: the artefacts a job of this type stores (docs/http-api.md › Artefacts). Per-cell
 * ones are stored only when listed; the others always are. A name the type has not → 400.
 */
function artefactsField(names: readonly [string, ...string[]]) {
  const optIn = names.filter((name) => OPT_IN_ARTEFACTS.has(name));
  const always = names.filter((name) => !OPT_IN_ARTEFACTS.has(name));
  const said = [
    optIn.length > 0 ? `${optIn.map((n) => `\`${n}\``).join(', ')} only when listed here` : '',
    always.length > 0 ? `${always.map((n) => `\`${n}\``).join(', ')} whether listed or not` : '',
  ].filter(Boolean);
  return z
    .array(z.enum(names))
    .max(names.length)
    .optional()
    .describe(`Artefacts to store with the result, on plans that store artefacts: ${said.join('; ')}`);
}

/** Shortest-path parameters with their rule stated: `start` and `end`, or `pairs` alone. */
const PathParamsDocumented = ShortestPathParamsSchema.meta({
  oneOf: [{ required: ['start', 'end'] }, { required: ['pairs'] }],
  dependentSchemas: { pairs: { properties: { start: false, end: false } } },
});

/** Distance-field parameters with their rule stated: exactly one of `sources` and `face`. */
const FieldParamsDocumented = DistanceFieldParamsSchema.meta({ oneOf: [{ required: ['sources'] }, { required: ['face'] }] });

const CELLS_INSIDE = 'Every cell named in `params` has one coordinate per axis of the lattice and lies inside its shape (400 `cell_out_of_bounds`).';

/** One body per job type, so each type's parameters are checked and documented. */
export const SubmitJobBody = z
  .discriminatedUnion('type', [
    z
      .strictObject({ type: z.literal('shortest_path'), ...latticeChoice, params: PathParamsDocumented, artefacts: artefactsField(ARTEFACT_NAMES.shortest_path) })
      .openapi('ShortestPathJobSubmit', { description: `A shortest path from \`params.start\` to \`params.end\` (or per pair of \`params.pairs\`); \`params.connectivity\` full allows diagonal steps. ${CELLS_INSIDE}`, ...ONE_LATTICE }),
    z
      .strictObject({ type: z.literal('components'), ...latticeChoice, params: ComponentsParamsSchema.default({ connectivity: 'axis' }), artefacts: artefactsField(ARTEFACT_NAMES.components) })
      .openapi('ComponentsJobSubmit', { description: 'The connected components of the open cells (`params.connectivity` full: diagonal neighbours too, as scipy.ndimage.label with a full structure).', ...ONE_LATTICE }),
    z.strictObject({ type: z.literal('diffusion'), ...latticeChoice, params: DiffusionParamsSchema, artefacts: artefactsField(ARTEFACT_NAMES.diffusion) }).openapi('DiffusionJobSubmit', {
      description: `Heat diffusion. \`params.alpha\` is at most 1/(2·dimensions) of the lattice (400 \`params_invalid\`). ${CELLS_INSIDE}`,
      ...ONE_LATTICE,
    }),
    z
      .strictObject({ type: z.literal('distance_field'), ...latticeChoice, params: FieldParamsDocumented })
      .openapi('DistanceFieldJobSubmit', { description: `Distances from \`params.sources\` (or every open cell of \`params.face\`) to every reachable cell. ${CELLS_INSIDE}`, ...ONE_LATTICE }),
    z
      .strictObject({ type: z.literal('min_cost_path'), ...latticeChoice, params: MinCostPathParamsSchema })
      .openapi('MinCostPathJobSubmit', { description: `A minimum-cost path from \`params.start\` to \`params.end\` over the public cost rule. ${CELLS_INSIDE}`, ...ONE_LATTICE }),
    z
      .strictObject({ type: z.literal('percolation'), ...latticeChoice, params: PercolationParamsSchema })
      .openapi('PercolationJobSubmit', { description: 'The largest cluster and spanning as functions of density, for one seed of the obstacle rule.', ...ONE_LATTICE }),
  ])
  .refine((body) => (body.lattice_id === undefined) !== (body.lattice === undefined), {
    error: 'give exactly one of lattice_id and lattice',
    path: ['lattice_id'],
  })
  .openapi('JobSubmit', {
    description:
      'A job: its `type`, that type\'s `params`, and exactly one of `lattice_id` (a stored lattice) and `lattice` (an inline spec). Also refused: a lattice or a job beyond the plan (402), a job needing more memory than a worker holds (422).',
  });

export type SubmitJobInput = z.output<typeof SubmitJobBody>;

/**
 * A job body as sent: `type`, `params` for that type, and a stored lattice (`lattice_id`) or an
 * inline one (`lattice`), exactly one of the two. The SDK submits it; the API's jobs service takes it.
 */
export type JobSubmission = z.input<typeof SubmitJobBody>;

export const JobErrorSchema = z
  .object({ code: z.string().describe('Stable: timeout, worker_lost, attempts_exhausted, a lattice validation code…'), message: z.string() })
  .openapi('JobError');

export const JobLinksSchema = z.object({ self: z.string(), result: z.string(), events: z.string() }).openapi('JobLinks');

/** What every job has, whatever its type. */
const jobFields = {
  id: z.uuid(),
  status: z.enum(JOB_STATUSES),
  progress: z.number().min(0).max(1),
  attempts: z.int().min(0).describe('Times a worker started the job'),
  created_at: z.iso.datetime(),
  started_at: z.iso.datetime().nullable(),
  finished_at: z.iso.datetime().nullable(),
  queue_wait_ms: z.int().nullable().describe('Submission to the start of the last attempt'),
  run_ms: z.int().nullable().describe('Run time of the last attempt'),
  error: z.union([JobErrorSchema, z.null()]).describe('Why the job failed (or was cancelled); null otherwise'),
  batch_id: z.uuid().nullable().describe('The batch it was submitted in'),
  labels: z.record(z.string(), z.string()).describe("Its labels (its own and its batch's)"),
};

/** Each job type's result, named for the document. */
const RESULTS = {
  shortest_path: ShortestPathResultSchema.meta({ id: 'ShortestPathResult' }),
  components: ComponentsResultSchema.meta({ id: 'ComponentsResult' }),
  diffusion: DiffusionResultSchema.meta({ id: 'DiffusionResult' }),
  distance_field: DistanceFieldResultSchema.meta({ id: 'DistanceFieldResult' }),
  min_cost_path: MinCostPathResultSchema.meta({ id: 'MinCostPathResult' }),
  percolation: PercolationResultSchema.meta({ id: 'PercolationResult' }),
};

/** A result's scalar fields, as lists carry them (the database keeps exactly these). */
const SUMMARIES = {
  shortest_path: ShortestPathResultSchema.pick({ reachable: true, length: true, path_omitted: true, visited: true, memory_bytes: true }).openapi(
    'ShortestPathResultSummary',
  ),
  components: ComponentsResultSchema.pick({ count: true, largest: true, spans_axis0: true, memory_bytes: true }).openapi('ComponentsResultSummary'),
  diffusion: DiffusionResultSchema.pick({ total_heat: true, min: true, max: true, mean: true, memory_bytes: true }).openapi('DiffusionResultSummary'),
  distance_field: DistanceFieldResultSchema.pick({ sources: true, reached: true, unreachable: true, max: true, mean: true, memory_bytes: true }).openapi(
    'DistanceFieldResultSummary',
  ),
  min_cost_path: MinCostPathResultSchema.pick({ reachable: true, cost: true, length: true, path_omitted: true, visited: true, memory_bytes: true }).openapi(
    'MinCostPathResultSummary',
  ),
  percolation: PercolationResultSchema.pick({ seed: true, spans_axis0_below_density: true, memory_bytes: true }).openapi('PercolationResultSummary'),
};

const orNull = <T extends z.ZodType>(schema: T, description: string) => z.union([schema, z.null()]).describe(description);

function jobOfType<T extends keyof typeof RESULTS>(type: T) {
  return z.object({
    ...jobFields,
    type: z.literal(type),
    result: orNull(RESULTS[type], 'The result, once completed; null before and when the job failed or was cancelled'),
  });
}

function summaryOfType<T extends keyof typeof SUMMARIES>(type: T) {
  return z.object({
    ...jobFields,
    type: z.literal(type),
    result_summary: orNull(SUMMARIES[type], "The result's scalar fields once completed; the whole result is at links.result"),
    links: JobLinksSchema,
  });
}

/** A job as webhook events and server-sent events carry it: one schema per type, told apart by `type`. */
export const JobSchema = z.discriminatedUnion('type', [
  jobOfType('shortest_path'),
  jobOfType('components'),
  jobOfType('diffusion'),
  jobOfType('distance_field'),
  jobOfType('min_cost_path'),
  jobOfType('percolation'),
]);

/** A job as the API answers it: the job and its links, one schema per type. */
export const JobResponseSchema = z
  .discriminatedUnion('type', [
    jobOfType('shortest_path').extend({ links: JobLinksSchema }).openapi('ShortestPathJob'),
    jobOfType('components').extend({ links: JobLinksSchema }).openapi('ComponentsJob'),
    jobOfType('diffusion').extend({ links: JobLinksSchema }).openapi('DiffusionJob'),
    jobOfType('distance_field').extend({ links: JobLinksSchema }).openapi('DistanceFieldJob'),
    jobOfType('min_cost_path').extend({ links: JobLinksSchema }).openapi('MinCostPathJob'),
    jobOfType('percolation').extend({ links: JobLinksSchema }).openapi('PercolationJob'),
  ])
  .openapi('Job', { description: 'A job; `type` says which result it has' });

/** The longest a poll of one job may be held (`Prefer: wait=N` is cut to it, `?wait=N` must not exceed it). */
export const MAX_JOB_WAIT_S = 30;

export const JobReadQuery = z.object({
  wait: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_JOB_WAIT_S)
    .optional()
    .describe('Seconds to hold the request until the job changes (as `Prefer: wait=N`); with If-None-Match, until it differs from that ETag'),
});

export const JobReadHeaders = z.object({
  'if-none-match': z.string().optional().describe('The ETag of the job as the client has it: 304 without a body while it is still current'),
  prefer: z.string().optional().describe(`\`wait=N\` (RFC 7240): hold the request up to N seconds (at most ${MAX_JOB_WAIT_S}) until the job changes`),
});

export const JobListQuery = z.object({
  status: z.enum(JOB_STATUSES).optional(),
  type: KernelTypeSchema.optional(),
  label: LabelFilterSchema.optional(),
  batch_id: z.uuid().optional(),
  created_after: z.iso.datetime({ offset: true }).optional().describe('Only jobs created after this instant (ISO 8601)'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().describe('`next_cursor` of the previous page'),
});

/** Which unfinished jobs `POST /api/jobs/cancel` cancels: all filters must match, at least one of label and batch_id given. */
export const CancelJobsBody = z
  .strictObject({
    label: LabelFilterSchema.optional(),
    batch_id: z.uuid().optional(),
    status: z.enum(['queued', 'running']).optional().describe('Only queued or only running jobs (default both)'),
    type: KernelTypeSchema.optional(),
    created_after: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((body) => body.label !== undefined || body.batch_id !== undefined, { error: 'give label or batch_id', path: ['label'] })
  .openapi('CancelJobs', {
    description: 'The unfinished jobs to cancel: every filter given must match, and at least one of `label` and `batch_id` is given',
    anyOf: [{ required: ['label'] }, { required: ['batch_id'] }],
  });

export const CancelJobsResultSchema = z
  .object({
    cancelled: z.number().int().describe('Queued jobs cancelled now (they never run)'),
    stopping: z.number().int().describe('Running jobs asked to stop (within a second)'),
    more: z.boolean().describe('True when more jobs matched than one call cancels (10,000): call again'),
  })
  .openapi('CancelJobsResult');

export const JobSummarySchema = z
  .discriminatedUnion('type', [
    summaryOfType('shortest_path').openapi('ShortestPathJobSummary'),
    summaryOfType('components').openapi('ComponentsJobSummary'),
    summaryOfType('diffusion').openapi('DiffusionJobSummary'),
    summaryOfType('distance_field').openapi('DistanceFieldJobSummary'),
    summaryOfType('min_cost_path').openapi('MinCostPathJobSummary'),
    summaryOfType('percolation').openapi('PercolationJobSummary'),
  ])
  .openapi('JobSummary', { description: 'A job in a list: no result, but its scalar fields; `type` says which' });

/** A job's summary and its place in its batch: one line of `GET /api/batches/{id}/results`. */
const batchLineOfType = <T extends keyof typeof SUMMARIES>(type: T) =>
  summaryOfType(type).extend({ index: z.int().min(0).describe("The job's place in the batch as submitted") });

export const BatchResultLineSchema = z
  .discriminatedUnion('type', [
    batchLineOfType('shortest_path').openapi('ShortestPathBatchResultLine'),
    batchLineOfType('components').openapi('ComponentsBatchResultLine'),
    batchLineOfType('diffusion').openapi('DiffusionBatchResultLine'),
    batchLineOfType('distance_field').openapi('DistanceFieldBatchResultLine'),
    batchLineOfType('min_cost_path').openapi('MinCostPathBatchResultLine'),
    batchLineOfType('percolation').openapi('PercolationBatchResultLine'),
  ])
  .openapi('BatchResultLine', { description: "One line of a batch's NDJSON results: a job as lists show it, with its `index` in the batch; `type` says which" });

export const JobListSchema = z.object({
  data: z.array(JobSummarySchema).describe('At most `limit` jobs, and fewer when they would pass 256 KiB'),
  next_cursor: z.string().nullable(),
});

/** A job's result alone (`GET /api/jobs/{id}/result`): the schema of the job's type. */
export const ResultSchema = z
  .union([RESULTS.shortest_path, RESULTS.components, RESULTS.diffusion, RESULTS.distance_field, RESULTS.min_cost_path, RESULTS.percolation])
  .openapi(
    'JobResult',
    // anyOf: a minimum-cost path's result holds every field a shortest path's does; the job's `type` says which it is.
    { description: "The result of the job's type (the job's `type` says which)" },
    { unionPreferredType: 'anyOf' },
  );

/** Longest a path request may wait for its answer. */
export const MAX_PATH_WAIT_MS = 30_000;

export const PathBody = z
  .strictObject({
    lattice_id: z.uuid({ error: 'must be a UUID' }),
    start: CellSchema.describe('First cell of the path: one coordinate per axis, inside the lattice'),
    end: CellSchema.describe('Last cell of the path: one coordinate per axis, inside the lattice'),
    wait_ms: z.number().int().min(0).max(MAX_PATH_WAIT_MS).default(2000).describe('How long to wait for the answer before a 202'),
  })
  .openapi('PathRequest');
