/** Schemas of the lattice and job routes: the wire schemas, which the SDK shares (`shared/wire/jobs.ts`). */
export {
  IdParams,
  IdempotencyHeaders,
  CreateLatticeBody,
  UpdateLatticeBody,
  LatticeSchema,
  LatticeSummarySchema,
  LatticeListQuery,
  LatticeListSchema,
  SubmitJobBody,
  JobErrorSchema,
  JobSchema,
  JobLinksSchema,
  JobResponseSchema,
  JobListQuery,
  JobSummarySchema,
  JobListSchema,
  ResultSchema,
  MAX_PATH_WAIT_MS,
  PathBody,
} from '../../shared/wire/jobs.ts';
export type { JobSubmission, SubmitJobInput } from '../../shared/wire/jobs.ts';
