/**
 * A completed job's full results, stored as artefacts (docs/architecture.md › Blobs): components →
 * `labels` (uint32 per cell, 0 = blocked) and `component_sizes`; shortest_path → `path` (uint32
 * coordinates, one row per cell); diffusion → `field` (float32 per cell, from the kernel's per-slab
 * copies a MiB at a time, never joined into one buffer). Each is a blob of raw little-endian bytes with its dtype and
 * shape, written with its `job_artefacts` row within the plan's storage. A plan that stores no
 * artefacts (`stores_artefacts` false) gets none. They are made ready outside any transaction
 * (`prepare`) and written in the job's final-state transaction (`writeIn`, the worker's group
 * commit), so a job's artefacts cost no commit of their own: with a commit each, tiny jobs were
 * bound by one WAL flush per job. Per-cell ones (`labels`) are stored only when the job's body
 * listed them in `artefacts` (shared/jobs/job-artefact-names.ts): `labels` and `field`; along the axes they are streamed
 * a slab at a time from the kernel threads into the blob store (component-label-stream.ts), in a
 * transaction of their own before the final state, never a label per cell in memory.
 */
import { createHash, hash, randomUUID } from 'node:crypto';
import { endianness } from 'node:os';
import { BLOB_CHUNK_BYTES } from '../shared/blobs/blob-backend.ts';
import type { BlobStore } from '../shared/blobs/index.ts';
import type { ArrayMeta } from '../shared/blobs/npy-header.ts';
import type { Knex } from 'knex';
import type { Db } from '../shared/db.ts';
import { artefactNamesOf, wantsArtefact } from '../shared/jobs/job-artefact-names.ts';
import type { InlineArtefacts } from '../shared/jobs/inline-artefacts.ts';
import type { JobRow } from '../shared/jobs/types.ts';
import { CellPath } from '../shared/lattice/cell-path.ts';
import { resolveLattice } from '../shared/lattice/resolve.ts';
import type { Lattice, LatticeSpec } from '../shared/lattice/types.ts';
import type { Logger } from '../shared/logger.ts';
import { getTenantPlan, type Plan } from '../shared/plans.ts';
import { ComponentLabelStream, type SlabLabeller } from './component-label-stream.ts';
import { labelComponents } from './kernels/component-labels.ts';
import { floodComponents } from './kernels/flood-components.ts';
import { labelSlab } from './kernels/slab-labels.ts';

/**
 * Most cells labelled in the worker's memory (2^28: 1 GiB of uint32 while the pass runs) for the
 * artefacts not streamed: `component_sizes` alone, and labels under `full` connectivity or a
 * boundary that wraps some axes only. A larger lattice's job keeps its summary only.
 */
export const MAX_LABELLED_CELLS = 2 ** 28;

/**
 * Most bytes of a job's artefacts kept in its result row rather than as blobs (a path of 512 cells
 * in 2-D): for a tiny job, a blob row, its chunk and an artefact row each cost more than the job.
 */
export const INLINE_ARTEFACT_MAX_BYTES = 4096;

/** Media type of an artefact's blob: raw little-endian array bytes (dtype and shape in its meta). */
export const RAW_ARRAY_MEDIA_TYPE = 'application/x-catalytic-array';

interface Artefact {
  name: string;
  meta: ArrayMeta;
  /** The array's bytes: one view, or consecutive pieces of it (a field's slabs). */
  data: ArrayBufferView | readonly ArrayBufferView[];
}

/** A completed job's artefacts, ready to be written in its final-state transaction. */
export interface PreparedArtefacts {
  jobId: string;
  tenantId: string;
  plan: Plan;
  artefacts: Artefact[];
}

/** How long a tenant's plan is reused for its jobs' artefacts (a plan change applies after this). */
const PLAN_TTL_MS = 5000;

/** Arrays a kernel run handed over beside its JSON result. */
export interface KernelArrays {
  /** diffusion: the final field, one float32 view per slab, in row order. */
  field?: readonly Float32Array[];
}

/** Job types whose results have artefacts (the others' results say nothing of them). */
const WITH_ARTEFACTS = new Set(['components', 'shortest_path', 'diffusion']);

/** Typed arrays' bytes in 1 MiB views (no copies). */
async function* bytesOf(data: ArrayBufferView | readonly ArrayBufferView[]): AsyncIterable<Uint8Array> {
  const step = 2 ** 20;
  for (const piece of Array.isArray(data) ? (data as readonly ArrayBufferView[]) : [data as ArrayBufferView]) {
    for (let at = 0; at < piece.byteLength; at += step) yield new Uint8Array(piece.buffer, piece.byteOffset + at, Math.min(step, piece.byteLength - at));
  }
}

/** What a result says of its artefacts (`result.artefacts`). */
export function resultArtefacts(jobId: string, names: readonly string[]): Record<string, unknown> {
  const list = `/api/jobs/${jobId}/artefacts`;
  const links = Object.fromEntries(names.map((name) => [name, `${list}/${name}?format=npy`]));
  return { stored: true, list, links, picture: `/api/jobs/${jobId}/picture` };
}

/** Labels slabs on the caller's own thread: for stand-in kernel runners in tests. */
const inlineLabeller: SlabLabeller = async (slab) => labelSlab(slab.lattice, slab.rowFrom, slab.rowTo, new Uint32Array(slab.labels), new Uint32Array(slab.sizes));

/** Where the streamed component labels are computed: the kernel pool's threads, and how many. */
export interface LabelThreads {
  labelSlab: SlabLabeller;
  threads: number;
}

export class JobArtefactWriter {
  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
    private readonly labelThreads: LabelThreads = { labelSlab: inlineLabeller, threads: 1 },
  ) {
    // Typed arrays are written as they lie in memory; artefacts are little-endian.
    if (endianness() !== 'LE') throw new Error('artefacts are written from little-endian memory');
  }

  private readonly plans = new Map<string, { plan: Promise<Plan>; at: number }>();

  /** The tenant's plan, read once every PLAN_TTL_MS (not once per job). */
  private planOf(tenantId: string): Promise<Plan> {
    const cached = this.plans.get(tenantId);
    if (cached && Date.now() - cached.at < PLAN_TTL_MS) return cached.plan;
    const plan = getTenantPlan(this.db, tenantId);
    this.plans.set(tenantId, { plan, at: Date.now() });
    plan.catch(() => this.plans.delete(tenantId));
    return plan;
  }

  /** Whether the tenant's plan keeps artefacts (so a kernel run should hand its arrays over). */
  async storesArtefacts(tenantId: string): Promise<boolean> {
    return (await this.planOf(tenantId)).stores_artefacts;
  }

  /**
   * A completed job's artefacts, ready to write in its final-state transaction (`prepared`; asked-for
   * labels along the axes are streamed now, in a transaction of their own), and what its result
   * says of them (`said`; undefined for job types without artefacts).
   */
  async prepare(
    row: Pick<JobRow, 'id' | 'tenant_id' | 'type' | 'params' | 'artefacts'>,
    spec: LatticeSpec,
    map: Uint8Array | undefined,
    result: Record<string, unknown>,
    arrays: KernelArrays = {},
    signal?: AbortSignal,
  ): Promise<{ prepared?: PreparedArtefacts; said?: Record<string, unknown> }> {
    if (!WITH_ARTEFACTS.has(row.type)) return {};
    const plan = await this.planOf(row.tenant_id);
    if (!plan.stores_artefacts) return { said: { stored: false, note: `The ${plan.name} plan stores no artefacts: this result is its summary only` } };
    if (row.type === 'components' && wantsArtefact(row, 'labels') && streamsLabels(row.params, spec)) {
      await this.writeLabels(row, plan, spec, map, signal);
      return { said: resultArtefacts(row.id, ['labels', 'component_sizes']) };
    }
    // Nothing asked for (a components job's arrays are all opt-in): no labelling pass at all.
    if (!artefactNamesOf(row.type).some((name) => wantsArtefact(row, name))) return { said: resultArtefacts(row.id, []) };
    const artefacts = this.artefactsOf(row.type, row.params, spec, map, result, arrays).filter((artefact) => wantsArtefact(row, artefact.name));
    // Nothing to keep (no path, a lattice too large to label): the list is empty, the picture stays.
    if (artefacts.length === 0) return { said: resultArtefacts(row.id, []) };
    return { prepared: { jobId: row.id, tenantId: row.tenant_id, plan, artefacts }, said: resultArtefacts(row.id, artefacts.map((a) => a.name)) };
  }

  /**
   * Writes prepared artefacts inside `trx` (a savepoint: a failure loses them, logged, and not the
   * transaction: the summary is the result). Returns their names, none when they were not stored.
   */
  async writeIn(trx: Knex.Transaction, prepared: PreparedArtefacts, logger: Logger): Promise<string[]> {
    try {
      await trx.transaction(async (savepoint) => {
        for (const artefact of prepared.artefacts) {
          const blob = await this.blobs.put(savepoint, prepared.tenantId, prepared.plan, { kind: 'artefact', mediaType: RAW_ARRAY_MEDIA_TYPE, meta: { ...artefact.meta } }, bytesOf(artefact.data));
          await savepoint('job_artefacts').insert({ job_id: prepared.jobId, name: artefact.name, tenant_id: prepared.tenantId, blob_id: blob.id });
        }
      });
      return prepared.artefacts.map((a) => a.name);
    } catch (err) {
      logger.warn({ err, jobId: prepared.jobId, tenantId: prepared.tenantId }, 'job artefacts not stored');
      return [];
    }
  }

  /**
   * A job's artefacts to keep in its result row (`job_results.artefacts`, written by the final
   * state's own statement) instead of as blobs: every one a single view and all of them within
   * {@link INLINE_ARTEFACT_MAX_BYTES}, for a plan with no storage quota to count them against (a
   * tiny job's path). Undefined for the others, written by {@link writeMany}.
   */
  inlineOf(prepared: PreparedArtefacts): InlineArtefacts | undefined {
    if (prepared.plan.max_storage_bytes >= 0) return undefined;
    let total = 0;
    const inline: InlineArtefacts = {};
    for (const artefact of prepared.artefacts) {
      if (Array.isArray(artefact.data)) return undefined;
      const view = artefact.data as ArrayBufferView;
      total += view.byteLength;
      if (view.byteLength === 0 || total > INLINE_ARTEFACT_MAX_BYTES) return undefined;
      const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
      inline[artefact.name] = { meta: { ...artefact.meta }, size: bytes.byteLength, sha256: hash('sha256', bytes, 'hex'), data: bytes.toString('base64') };
    }
    return inline;
  }

  /**
   * Writes the artefacts of many jobs inside `trx` (the final-state group commit). Small ones (one
   * chunk, PostgreSQL bytes, a plan without a storage quota to check) go in three multi-row
   * statements for the whole group, since a few round trips per artefact made the group commit
   * the pipeline's bottleneck; the others, or all of them if that savepoint fails, one by one
   * with `writeIn`, tenants in one order so the storage locks are taken alike by every worker.
   */
  async writeMany(trx: Knex.Transaction, all: readonly PreparedArtefacts[], logger: Logger): Promise<void> {
    const ordered = [...all].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
    const small = (p: PreparedArtefacts): boolean =>
      this.blobs.backend.name === 'postgres' &&
      p.plan.max_storage_bytes < 0 &&
      p.artefacts.every((a) => !Array.isArray(a.data) && (a.data as ArrayBufferView).byteLength > 0 && (a.data as ArrayBufferView).byteLength <= BLOB_CHUNK_BYTES);
    const bulk = ordered.filter(small);
    let written = new Set<PreparedArtefacts>();
    if (bulk.length > 1) {
      try {
        await trx.transaction((savepoint) => this.insertSmall(savepoint, bulk));
        written = new Set(bulk);
      } catch (err) {
        logger.debug({ err }, 'artefacts of a group not written together; writing them one by one');
      }
    }
    for (const prepared of ordered) if (!written.has(prepared)) await this.writeIn(trx, prepared, logger);
  }

  /** Small artefacts of many jobs: their blob rows, their one chunk each and their artefact rows, a statement each. */
  private async insertSmall(trx: Knex.Transaction, all: readonly PreparedArtefacts[]): Promise<void> {
    const blobs: Array<Record<string, unknown>> = [];
    const chunks: Array<Record<string, unknown>> = [];
    const rows: Array<Record<string, unknown>> = [];
    for (const prepared of all) {
      for (const artefact of prepared.artefacts) {
        const id = randomUUID();
        // Only single views get here (see `small` in writeMany).
        const view = artefact.data as ArrayBufferView;
        const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        blobs.push({ id, tenant_id: prepared.tenantId, kind: 'artefact', media_type: RAW_ARRAY_MEDIA_TYPE, backend: 'postgres', meta: { ...artefact.meta }, size: bytes.byteLength, sha256 });
        chunks.push({ blob_id: id, chunk_index: 0, tenant_id: prepared.tenantId, data: bytes });
        rows.push({ job_id: prepared.jobId, name: artefact.name, tenant_id: prepared.tenantId, blob_id: id });
      }
    }
    await trx('blobs').insert(blobs);
    await trx('blob_chunks').insert(chunks);
    await trx('job_artefacts').insert(rows);
  }

  /**
   * components → `labels` and `component_sizes`, streamed a slab at a time from the kernel threads
   * into the blob store (component-label-stream.ts), in a transaction of their own.
   */
  private async writeLabels(row: Pick<JobRow, 'id' | 'tenant_id'>, plan: Plan, spec: LatticeSpec, map: Uint8Array | undefined, signal?: AbortSignal): Promise<void> {
    const lattice = resolveLattice(spec, map);
    const labels = new ComponentLabelStream(lattice, this.labelThreads.labelSlab, this.labelThreads.threads, signal);
    try {
      await labels.prepare();
      await this.db.transaction(async (trx) => {
        // No WAL flush of its own: the job's synchronous final write flushes it.
        await trx.raw(`select set_config('synchronous_commit', 'off', true)`);
        const put = async (name: string, meta: ArrayMeta, source: AsyncIterable<Uint8Array>): Promise<void> => {
          const blob = await this.blobs.put(trx, row.tenant_id, plan, { kind: 'artefact', mediaType: RAW_ARRAY_MEDIA_TYPE, meta: { ...meta } }, source);
          await trx('job_artefacts').insert({ job_id: row.id, name, tenant_id: row.tenant_id, blob_id: blob.id });
        };
        await put('labels', { dtype: '<u4', shape: [...lattice.shape] }, labels.labelBytes());
        // The sizes are known once every label is written.
        await put('component_sizes', { dtype: '<u4', shape: [labels.count] }, labels.sizeBytes());
      });
    } finally {
      await labels.close();
    }
  }

  private artefactsOf(
    type: string,
    params: Record<string, unknown>,
    spec: LatticeSpec,
    map: Uint8Array | undefined,
    result: Record<string, unknown>,
    arrays: KernelArrays,
  ): Artefact[] {
    if (type === 'components') {
      // The sizes need the labelling pass too; only the labels' blob is left out when only they are asked for.
      const lattice = resolveLattice(spec, map);
      if (lattice.cells > MAX_LABELLED_CELLS) return [];
      const { labels, sizes } = params['connectivity'] === 'full' ? fullLabels(lattice) : labelComponents(lattice);
      return [
        { name: 'labels', meta: { dtype: '<u4', shape: [...lattice.shape] }, data: labels },
        { name: 'component_sizes', meta: { dtype: '<u4', shape: [sizes.length] }, data: sizes },
      ];
    }
    const cellPath = result['path'];
    if (type === 'shortest_path' && cellPath instanceof CellPath && cellPath.length > 0) {
      // Written from the cell indices: no coordinate list per cell (shared/lattice/cell-path.ts).
      return [{ name: 'path', meta: { dtype: '<u4', shape: [cellPath.length, cellPath.shape.length] }, data: cellPath.coordinateRows() }];
    }
    if (type === 'shortest_path' && Array.isArray(result['path']) && (result['path'] as unknown[]).length > 0) {
      const path = result['path'] as number[][];
      const d = path[0]?.length ?? 0;
      const data = new Uint32Array(path.length * d);
      path.forEach((cell, k) => data.set(cell, k * d));
      return [{ name: 'path', meta: { dtype: '<u4', shape: [path.length, d] }, data }];
    }
    if (type === 'diffusion' && arrays.field) {
      const { shape } = resolveLattice(spec, map);
      return [{ name: 'field', meta: { dtype: '<f4', shape: [...shape] }, data: arrays.field }];
    }
    return [];
  }
}

/**
 * Whether a components job's labels are streamed: along the axes, on a lattice whose every axis
 * wraps or none does (the slab labelling's cases); the others are labelled in memory.
 */
function streamsLabels(params: Record<string, unknown>, spec: LatticeSpec): boolean {
  const boundary = spec.boundary as unknown;
  const mixed = Array.isArray(boundary) && new Set(boundary).size > 1;
  return params['connectivity'] !== 'full' && !mixed;
}

/** Labels under the `full` connectivity, numbered as the axis labelling numbers them (by smallest cell). */
function fullLabels(lattice: Lattice): { labels: Uint32Array; sizes: Uint32Array } {
  const out = { labels: new Uint32Array(lattice.cells), sizes: [] as number[] };
  floodComponents(lattice, 'full', null, out);
  return { labels: out.labels, sizes: Uint32Array.from(out.sizes) };
}
