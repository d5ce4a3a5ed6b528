/**
 * Wire schemas of the lattice and job routes: the API validates requests and documents itself at
 * /openapi.json with them, and the SDK takes its types from them. Lattice specs and job
 * parameters use the lattice engine's own schemas; checks that need the lattice (a cell inside its shape, a stable alpha) run after
 * these, in `shared/jobs/lattice-checks.ts`.
 */
import './openapi-zod.ts';
import { z } from 'zod';
import { JOB_STATUSES } from '../jobs/types.ts';
import { LabelFilterSchema, LabelsSchema } from './labels.ts';
import {
  ComponentsParamsSchema,
  DiffusionParamsSchema,
  KernelTypeSchema,
  LatticeSpecObjectSchema,
  ShortestPathParamsSchema,
  CellSchema,
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

// ── Lattices ────────────────────────────────────────────────────────────────────────────────

export const CreateLatticeBody = LatticeSpecObjectSchema.extend({ name: nameField.optional() }).openapi('LatticeCreate');

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
  .describe('Fields to change. `shape` replaces `dimensions` and `size` and the other way round; `obstacles: null` removes them')
  .openapi('LatticeUpdate');

export const LatticeSchema = z
  .object({
    id: z.uuid(),
    name: z.string().nullable(),
    version: z.number().int().describe('Starts at 1; each change of the spec adds one (jobs keep the version they were submitted with)'),
    spec: LatticeSpecObjectSchema.describe('The spec as stored: boundary filled in, an explicit obstacle list sorted by cell index without repeats'),
    dimensions: z.number().int(),
    shape: z.array(z.number().int()),
    cells: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Lattice');

export const LatticeSummarySchema = LatticeSchema.omit({ spec: true })
  .extend({
    boundary: z.enum(['open', 'periodic']),
    obstacles: z.enum(['none', 'explicit', 'procedural']).describe('How cells are blocked; GET the lattice for the spec'),
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
  lattice: LatticeSpecObjectSchema.optional().describe('An inline lattice spec, instead of lattice_id'),
};

/** One body per job type, so each type's parameters are checked and documented. */
export const SubmitJobBody = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('shortest_path'), ...latticeChoice, params: ShortestPathParamsSchema }),
    z.strictObject({ type: z.literal('components'), ...latticeChoice, params: ComponentsParamsSchema.default({}) }),
    z.strictObject({ type: z.literal('diffusion'), ...latticeChoice, params: DiffusionParamsSchema }),
  ])
  .refine((body) => (body.lattice_id === undefined) !== (body.lattice === undefined), {
    error: 'give exactly one of lattice_id and lattice',
    path: ['lattice_id'],
  })
  .openapi('JobSubmit');

export type SubmitJobInput = z.output<typeof SubmitJobBody>;

/**
 * A job body as sent: `type`, `params` for that type, and a stored lattice (`lattice_id`) or an
 * inline one (`lattice`), exactly one of the two. The SDK submits it; the API's jobs service takes it.
 */
export type JobSubmission = z.input<typeof SubmitJobBody>;

export const JobErrorSchema = z
  .object({ code: z.string().describe('Stable: timeout, worker_lost, attempts_exhausted, a lattice validation code…'), message: z.string() })
  .openapi('JobError');

export const JobSchema = z
  .object({
    id: z.uuid(),
    type: KernelTypeSchema,
    status: z.enum(JOB_STATUSES),
    progress: z.number().min(0).max(1),
    attempts: z.number().int().describe('Times a worker started the job'),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    queue_wait_ms: z.number().int().nullable().describe('Submission to the start of the last attempt'),
    run_ms: z.number().int().nullable().describe('Run time of the last attempt'),
    error: JobErrorSchema.nullable(),
    batch_id: z.uuid().nullable().describe('The batch it was submitted in'),
    labels: z.record(z.string(), z.string()).describe("Its labels (its own and its batch's)"),
    result: z.record(z.string(), z.unknown()).nullable().describe('The kernel result, once completed'),
  })
  .openapi('Job');

export const JobLinksSchema = z.object({ self: z.string(), result: z.string(), events: z.string() });

export const JobResponseSchema = JobSchema.extend({ links: JobLinksSchema }).openapi('JobWithLinks');

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
  .openapi('CancelJobs');

export const CancelJobsResultSchema = z
  .object({
    cancelled: z.number().int().describe('Queued jobs cancelled now (they never run)'),
    stopping: z.number().int().describe('Running jobs asked to stop (within a second)'),
    more: z.boolean().describe('True when more jobs matched than one call cancels (10,000): call again'),
  })
  .openapi('CancelJobsResult');

export const JobSummarySchema = JobSchema.omit({ result: true })
  .extend({
    result_summary: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe("The result's scalar fields (length, count, total_heat…) once completed; the whole result is at links.result"),
    links: JobLinksSchema,
  })
  .openapi('JobSummary');

export const JobListSchema = z.object({
  data: z.array(JobSummarySchema).describe('At most `limit` jobs, and fewer when they would pass 256 KiB'),
  next_cursor: z.string().nullable(),
});

export const ResultSchema = z.record(z.string(), z.unknown()).describe('The kernel result').openapi('JobResult');

/** Longest a path request may wait for its answer. */
export const MAX_PATH_WAIT_MS = 30_000;

export const PathBody = z
  .strictObject({
    lattice_id: z.uuid({ error: 'must be a UUID' }),
    start: CellSchema,
    end: CellSchema,
    wait_ms: z.number().int().min(0).max(MAX_PATH_WAIT_MS).default(2000).describe('How long to wait for the answer before a 202'),
  })
  .openapi('PathRequest');
