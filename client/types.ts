/**
 * Wire types of the API as the SDK sees them. Lattice specs, job parameters and kernel results
 * come from the lattice model's zod schemas (`shared/lattice`), the same ones the server
 * validates with, so client and server cannot drift apart.
 */
import type {
  ComponentsResult,
  DiffusionResult,
  DistanceFieldResult,
  KernelType,
  MinCostPathResult,
  PercolationResult,
  ShortestPathResult,
} from '../shared/lattice/types.ts';
import type { z } from 'zod';
import type * as JobSchemas from '../shared/wire/jobs.ts';
import type { JobStatus } from '../shared/jobs/types.ts';

export type {
  ComponentsParamsInput,
  ComponentsResult,
  Connectivity,
  DiffusionParamsInput,
  DiffusionResult,
  DistanceFieldParamsInput,
  DistanceFieldResult,
  KernelParamsInputByType,
  MinCostPathParamsInput,
  MinCostPathResult,
  PercolationParamsInput,
  PercolationResult,
  KernelType,
  LatticeSpecInput,
  ShortestPathParams,
  ShortestPathParamsInput,
  ShortestPathResult,
} from '../shared/lattice/types.ts';

export { FINAL_STATUSES, isFinalStatus, JOB_STATUSES } from '../shared/jobs/types.ts';
export type { FinalStatus, JobError, JobStatus } from '../shared/jobs/types.ts';

/** Where a job and its result and events live. */
export type JobLinks = z.output<typeof JobSchemas.JobLinksSchema>;

/**
 * A job as the API shows it (docs/architecture.md › The job body). Answers carry `links`; the job inside an event does
 * not.
 */
export type Job = z.output<typeof JobSchemas.JobSchema> & { links?: JobLinks };

/** A job in a list: no result body, the result's scalar fields in `result_summary` instead. */
export type JobSummary = z.output<typeof JobSchemas.JobSummarySchema>;

/** Result of each kernel type. */
export interface KernelResultByType {
  shortest_path: ShortestPathResult;
  components: ComponentsResult;
  diffusion: DiffusionResult;
  distance_field: DistanceFieldResult;
  min_cost_path: MinCostPathResult;
  percolation: PercolationResult;
}

/** Any kernel's result. */
export type KernelResult = KernelResultByType[KernelType];

export type { JobSubmission } from '../shared/wire/jobs.ts';

/** What `POST /api/jobs` answers (202): the queued job and where to follow it. */
export type SubmittedJob = z.output<typeof JobSchemas.JobResponseSchema>;

/** Filters and paging of `GET /api/jobs`. */
export interface JobListQuery {
  status?: JobStatus;
  type?: KernelType;
  /** `key:value`: only jobs with this label. */
  label?: string;
  batch_id?: string;
  /** ISO 8601: only jobs created after it. */
  created_after?: string;
  /** `next_cursor` of the previous page. */
  cursor?: string;
  limit?: number;
}

/** A page of jobs, newest first. */
export type JobPage = z.output<typeof JobSchemas.JobListSchema>;

/** One server-sent event of `GET /api/jobs/:id/events`, its data parsed from JSON. */
export interface JobEvent {
  event: string;
  id: string | undefined;
  data: unknown;
}

/** A stored lattice (its spec with the boundary filled in, its shape and cell count). */
export type Lattice = z.output<typeof JobSchemas.LatticeSchema>;

/** A lattice in a list (no spec: GET the lattice for it). */
export type LatticeSummary = z.output<typeof JobSchemas.LatticeSummarySchema>;

/** `POST /api/lattices`: a lattice spec and an optional name. */
export type LatticeCreateInput = z.input<typeof JobSchemas.CreateLatticeBody>;

/** `PATCH /api/lattices/:id`: the fields to change (`obstacles: null` removes them). */
export type LatticeUpdateInput = z.input<typeof JobSchemas.UpdateLatticeBody>;

export interface LatticeListQuery {
  cursor?: string;
  /** 1..100, default 20. */
  limit?: number;
}

/** A page of lattices. */
export type LatticePage = z.output<typeof JobSchemas.LatticeListSchema>;

/** `POST /api/lattices/path`: a shortest path on a stored lattice, waiting up to `wait_ms` (default 2000). */
export type LatticePathInput = z.input<typeof JobSchemas.PathBody>;

/** 200 with the finished job (and its result), or 202 with the job still going. */
export interface LatticePathAnswer {
  status: 200 | 202;
  job: SubmittedJob;
}
