/**
 * Wire schemas of the batch routes (docs/http-api.md › Batches): the API validates requests and
 * documents itself with them, and the SDK takes its types from them. A batch's jobs are read
 * loosely here and checked one by one after the shared lattice and defaults are merged in
 * (api/batches/items.ts), so a refusal names the job's index.
 */
import './openapi-zod.ts';
import { z } from 'zod';
import { JOB_STATUSES } from '../jobs/types.ts';
import { KernelTypeSchema, LatticeSpecObjectSchema } from '../lattice/schema.ts';
import { LabelsSchema } from './labels.ts';

export { LabelsSchema, MAX_LABELS } from './labels.ts';

/** Most jobs one `POST /api/batches` carries. */
export const MAX_BATCH_JOBS = 1000;
const BatchItemSchema = z
  .looseObject({
    type: KernelTypeSchema.optional(),
    lattice_id: z.unknown().optional(),
    lattice: z.unknown().optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    labels: z.unknown().optional(),
    artefacts: z.unknown().optional(),
  })
  .describe('A job as `POST /api/jobs` takes it; `type`, `params` fields and the lattice may come from the batch instead');

/** At most one of `lattice_id` and `lattice`, as JSON Schema states it (zod-to-openapi's types lack the keyword). */
const AT_MOST_ONE_LATTICE = { dependentSchemas: { lattice_id: { properties: { lattice: false } } } };

export const SubmitBatchBody = z
  .strictObject({
    jobs: z.array(BatchItemSchema).min(1).max(MAX_BATCH_JOBS).describe(`1 to ${MAX_BATCH_JOBS} jobs`),
    lattice_id: z.uuid({ error: 'must be a UUID' }).optional().describe('A stored lattice for every job that names none'),
    lattice: LatticeSpecObjectSchema.optional().describe('An inline lattice for every job that names none (instead of lattice_id)'),
    defaults: z
      .strictObject({
        type: KernelTypeSchema.optional(),
        params: z.record(z.string(), z.unknown()).optional(),
        artefacts: z.array(z.string()).max(8).optional().describe("A job's `artefacts` when it lists none (checked against each job's type)"),
      })
      .optional()
      .describe("A job's `type` when it has none, `params` fields it does not set and `artefacts` when it lists none"),
    labels: LabelsSchema.optional(),
  })
  .refine((body) => body.lattice_id === undefined || body.lattice === undefined, { error: 'give at most one of lattice_id and lattice', path: ['lattice_id'] })
  .openapi('BatchSubmit', {
    description: 'Jobs submitted together: at most one of `lattice_id` and `lattice` for them all, and each job valid as `POST /api/jobs` takes it once the batch\'s lattice and defaults are filled in',
    ...AT_MOST_ONE_LATTICE,
  });

export type SubmitBatchInput = z.output<typeof SubmitBatchBody>;
export type BatchSubmission = z.input<typeof SubmitBatchBody>;

export const BATCH_STATUSES = ['queued', 'running', 'completed'] as const;

export const BatchCountsSchema = z.object(Object.fromEntries(JOB_STATUSES.map((s) => [s, z.number().int()])) as Record<(typeof JOB_STATUSES)[number], z.ZodNumber>).openapi('BatchCounts');

export const BatchLinksSchema = z.object({ self: z.string(), results: z.string(), events: z.string(), jobs: z.string() });

export const BatchSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(BATCH_STATUSES).describe('`completed` once every job is final, whatever its outcome (see counts)'),
    total: z.number().int(),
    counts: BatchCountsSchema,
    progress: z.number().min(0).max(1).describe('Final jobs over all jobs'),
    labels: z.record(z.string(), z.string()),
    created_at: z.string(),
    first_finished_at: z.string().nullable(),
    last_finished_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    links: BatchLinksSchema,
  })
  .openapi('Batch');

export const BatchCreatedSchema = BatchSchema.extend({ job_ids: z.array(z.uuid()).describe('The jobs, in the order given') }).openapi('BatchCreated');

export const BatchSummarySchema = BatchSchema.omit({ counts: true, first_finished_at: true, last_finished_at: true })
  .extend({ finished: z.number().int().describe('Jobs in a final state') })
  .openapi('BatchSummary');

export const BatchListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().describe('`next_cursor` of the previous page'),
});

export const BatchListSchema = z.object({ data: z.array(BatchSummarySchema), next_cursor: z.string().nullable() });

/** One line of `GET /api/batches/:id/results`: the job's summary (as in job lists) and its index, in submission order. */
export { BatchResultLineSchema } from './jobs.ts';

/** One refused job of a batch. */
export const BatchItemProblemSchema = z
  .object({ index: z.number().int(), code: z.string(), status: z.number().int(), detail: z.string() })
  .catchall(z.unknown())
  .openapi('BatchItemProblem');
