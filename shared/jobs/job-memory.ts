/**
 * A job's memory reservation from its stored form (lattice spec and parameters), and the submit
 * check that refuses a job larger than any worker is configured to hold.
 */
import { AppError } from '../errors.ts';
import { wantsArtefact } from './job-artefact-names.ts';
import { jobMemoryBytes } from '../lattice/working-memory.ts';
import type { CheckedLattice } from '../lattice/resolve.ts';
import type { KernelType, LatticeSpec } from '../lattice/types.ts';
import { shapeOfSpec } from '../lattice/validate.ts';
import type { QueuedJobRef } from '../queues/producer.ts';
import { formatBytes } from '../units.ts';
import type { JobRow } from './types.ts';

/** The settings both the API and the workers size reservations with. */
export interface JobMemorySettings {
  /** Threads of a worker's kernel pool (`KERNEL_THREADS`). */
  KERNEL_THREADS: number;
  /** Most memory one job may reserve (`MAX_JOB_MEMORY_BYTES`). */
  MAX_JOB_MEMORY_BYTES: number;
}

/**
 * Bytes a job reserves on a worker: see working-memory.ts. The spec must be valid (a checked
 * job or a stored row); its obstacle list is not read, only its length.
 *
 * @param artefacts - the artefacts the job's body listed (a diffusion keeps its whole field only for `field`)
 */
export function jobReservation(type: KernelType, spec: LatticeSpec, params: Record<string, unknown>, threads: number, artefacts: readonly string[] | null = null): number {
  const shape = shapeOfSpec(spec);
  if (!Array.isArray(shape)) throw new TypeError(`a job's reservation needs a valid lattice: ${shape.message}`);
  return reservation(type, shape, spec, params, threads, artefacts);
}

/** {@link jobReservation} of a job on a checked lattice, reading the shape its check derived. */
export function checkedJobReservation(type: KernelType, lattice: CheckedLattice, params: Record<string, unknown>, threads: number, artefacts: readonly string[] | null = null): number {
  return reservation(type, lattice.geometry.shape, lattice.spec, params, threads, artefacts);
}

function reservation(type: KernelType, shape: readonly number[], spec: LatticeSpec, params: Record<string, unknown>, threads: number, artefacts: readonly string[] | null): number {
  const obstacles = spec.obstacles as { blocked?: unknown[]; map?: unknown } | undefined;
  const sources = (params['sources'] as unknown[] | undefined)?.length ?? 0;
  const initial = (params['initial'] as unknown[] | undefined)?.length ?? 0;
  const pairs = type === 'shortest_path' ? ((params['pairs'] as unknown[] | undefined)?.length ?? 0) : 0;
  const connectivity = params['connectivity'] === 'full' ? 'full' : 'axis';
  const mixedBoundary = Array.isArray(spec.boundary) && new Set(spec.boundary).size > 1;
  const keepsField = type === 'diffusion' && wantsArtefact({ type, artefacts }, 'field');
  return jobMemoryBytes(
    { type, shape, explicitBlocked: obstacles?.blocked?.length ?? 0, sources: sources + initial, pairs, connectivity, mixedBoundary, weighted: params['costs'] !== undefined, map: obstacles?.map !== undefined, keepsField },
    threads,
  );
}

/** Refuses (422 `job_too_large`) a job whose reservation exceeds `MAX_JOB_MEMORY_BYTES`. */
export function checkJobMemory(bytes: number, settings: JobMemorySettings): void {
  const limit = settings.MAX_JOB_MEMORY_BYTES;
  if (bytes <= limit) return;
  throw new AppError('job_too_large', `The job needs about ${formatBytes(bytes)} of working memory; a worker holds at most ${formatBytes(limit)} per job`, {
    extra: { memory_bytes: bytes, limit_bytes: limit },
  });
}

/**
 * A job row as its queue entry: id, tenant, type and the memory it reserves (recorded at submit;
 * for an older row, computed from its inline spec, or left to the worker's cautious default).
 */
export function queuedJobOf(row: Pick<JobRow, 'id' | 'tenant_id' | 'type' | 'lattice' | 'params' | 'memory_bytes'> & Partial<Pick<JobRow, 'artefacts'>>, threads: number): QueuedJobRef {
  const memoryBytes = row.memory_bytes ?? (row.lattice ? jobReservation(row.type, row.lattice, row.params, threads, row.artefacts ?? null) : undefined);
  return { id: row.id, tenantId: row.tenant_id, type: row.type, ...(memoryBytes === undefined ? {} : { memoryBytes }) };
}
