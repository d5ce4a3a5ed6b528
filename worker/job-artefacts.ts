/**
 * A completed job's full results, stored as artefacts (docs/architecture.md › Blobs): components →
 * `labels` (uint32 per cell, 0 = blocked) and `component_sizes`; shortest_path → `path` (uint32
 * coordinates, one row per cell); diffusion → `field` (float32 per cell, written from the kernel's
 * per-slab copies a MiB at a time, never joined into one buffer). Each is a blob of raw little-endian bytes with its dtype and
 * shape, written with its `job_artefacts` row in one transaction, within the plan's storage. A plan
 * that stores no artefacts (`stores_artefacts` false) gets none.
 */
import { endianness } from 'node:os';
import type { BlobStore } from '../shared/blobs/index.ts';
import type { ArrayMeta } from '../shared/blobs/npy-header.ts';
import type { Db } from '../shared/db.ts';
import type { JobRow } from '../shared/jobs/types.ts';
import { resolveLattice } from '../shared/lattice/resolve.ts';
import type { Lattice, LatticeSpec } from '../shared/lattice/types.ts';
import { getTenantPlan } from '../shared/plans.ts';
import { labelComponents } from './kernels/component-labels.ts';
import { floodComponents } from './kernels/flood-components.ts';

/**
 * Most cells whose labels are stored (2^28: 1 GiB of uint32 in the worker while the labelling pass
 * runs); a larger lattice's components job keeps its summary only, until the pass runs in slabs.
 */
export const MAX_LABELLED_CELLS = 2 ** 28;

/** Media type of an artefact's blob: raw little-endian array bytes (dtype and shape in its meta). */
export const RAW_ARRAY_MEDIA_TYPE = 'application/x-catalytic-array';

interface Artefact {
  name: string;
  meta: ArrayMeta;
  /** The array's bytes: one view, or consecutive pieces of it (a field's slabs). */
  data: ArrayBufferView | readonly ArrayBufferView[];
}

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

export class JobArtefactWriter {
  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
  ) {
    // Typed arrays are written as they lie in memory; artefacts are little-endian.
    if (endianness() !== 'LE') throw new Error('artefacts are written from little-endian memory');
  }

  /** Whether the tenant's plan keeps artefacts (so a kernel run should hand its arrays over). */
  async storesArtefacts(tenantId: string): Promise<boolean> {
    return (await getTenantPlan(this.db, tenantId)).stores_artefacts;
  }

  /**
   * The artefacts of a completed job; none when its plan stores none. Returns what the result
   * says of them (undefined for job types without artefacts).
   */
  async write(
    row: Pick<JobRow, 'id' | 'tenant_id' | 'type' | 'params'>,
    spec: LatticeSpec,
    map: Uint8Array | undefined,
    result: Record<string, unknown>,
    arrays: KernelArrays = {},
  ): Promise<Record<string, unknown> | undefined> {
    if (!WITH_ARTEFACTS.has(row.type)) return undefined;
    const plan = await getTenantPlan(this.db, row.tenant_id);
    if (!plan.stores_artefacts) return { stored: false, note: `The ${plan.name} plan stores no artefacts: this result is its summary only` };
    const artefacts = this.artefactsOf(row.type, row.params, spec, map, result, arrays);
    // Nothing to keep (no path, a lattice too large to label): the list is empty, the picture stays.
    if (artefacts.length === 0) return resultArtefacts(row.id, []);
    await this.db.transaction(async (trx) => {
      // No WAL flush of its own: the job's final state, written after this and committed
      // synchronously, flushes it too (a tiny job's run_ms was mostly this flush). A crash
      // before that flush loses the artefacts with a job that never completed, which runs again.
      await trx.raw(`select set_config('synchronous_commit', 'off', true)`);
      for (const artefact of artefacts) {
        const blob = await this.blobs.put(trx, row.tenant_id, plan, { kind: 'artefact', mediaType: RAW_ARRAY_MEDIA_TYPE, meta: { ...artefact.meta } }, bytesOf(artefact.data));
        await trx('job_artefacts').insert({ job_id: row.id, name: artefact.name, tenant_id: row.tenant_id, blob_id: blob.id });
      }
    });
    return resultArtefacts(row.id, artefacts.map((a) => a.name));
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
      const lattice = resolveLattice(spec, map);
      if (lattice.cells > MAX_LABELLED_CELLS) return [];
      const { labels, sizes } = params['connectivity'] === 'full' ? fullLabels(lattice) : labelComponents(lattice);
      return [
        { name: 'labels', meta: { dtype: '<u4', shape: [...lattice.shape] }, data: labels },
        { name: 'component_sizes', meta: { dtype: '<u4', shape: [sizes.length] }, data: sizes },
      ];
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

/** Labels under the `full` connectivity, numbered as the axis labelling numbers them (by smallest cell). */
function fullLabels(lattice: Lattice): { labels: Uint32Array; sizes: Uint32Array } {
  const out = { labels: new Uint32Array(lattice.cells), sizes: [] as number[] };
  floodComponents(lattice, 'full', null, out);
  return { labels: out.labels, sizes: Uint32Array.from(out.sizes) };
}
