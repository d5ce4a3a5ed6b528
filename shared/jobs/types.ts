/** Jobs as stored: the row of the `jobs` table, its states and its error. */
import type { KernelType, LatticeSpec } from '../lattice/types.ts';

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** States a job never leaves. */
export const FINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

export function isFinalStatus(status: string): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

/**
 * Why a job failed: a stable `code` and a message for people. Codes: the lattice engine's
 * validation codes (`lattice_invalid`, `cell_out_of_bounds`, …), `timeout` (the plan's runtime
 * limit), `too_large` (more memory than a worker allows), `worker_lost` (its worker died and Redis
 * lost the job), `attempts_exhausted` (infrastructure failures on every attempt), `internal`.
 */
export interface JobError {
  code: string;
  message: string;
}

/** A row of `jobs`. */
export interface JobRow {
  id: string;
  tenant_id: string;
  lattice_id: string | null;
  type: KernelType;
  status: JobStatus;
  /** The inline lattice spec as submitted; null when the job runs on a stored lattice's version. */
  lattice: LatticeSpec | null;
  /** The stored lattice version the job runs on (immutable: editing the lattice later makes a new one). */
  lattice_version_id: string | null;
  params: Record<string, unknown>;
  cells: number;
  /** Working memory reserved on a worker; null on rows written before it was recorded. */
  memory_bytes: number | null;
  progress: number;
  attempts: number;
  max_attempts: number;
  idempotency_key: string | null;
  request_hash: string | null;
  error: JobError | null;
  worker_id: string | null;
  cancel_requested_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  queue_wait_ms: number | null;
  run_ms: number | null;
  /** The batch the job was submitted in, if any. */
  batch_id: string | null;
  /** Its place in the batch's request. */
  batch_index: number | null;
  /** Key/value labels (its own and its batch's); null when it has none. */
  labels: Record<string, string> | null;
  /** Artefacts the body asked for (`artefacts`); null when it listed none. See job-artefact-names.ts. */
  artefacts: string[] | null;
  /** The BullMQ id of the chunk entry that carries the job; null when its own id is its entry. */
  queue_entry: string | null;
  created_at: Date;
  updated_at: Date;
  /** Raised by PostgreSQL whenever a column of the public job body changes (migration 0013). */
  state_version: number;
}
