/**
 * A completed job's full results, stored as artefacts (docs/architecture.md › Blobs): components →
 * `labels` (uint32 per cell, 0 = blocked) and `component_sizes`; shortest_path → `path` (uint32
 * coordinates, one row per cell). Each is a blob of raw little-endian bytes with its dtype and
 * shape, written with its `job_artefacts` row in one transaction, within the plan's storage. A plan
 * that stores no artefacts (`stores_artefacts` false) gets none; per-cell ones (`labels`) only when
 * the job's body listed them in `artefacts` (shared/jobs/job-artefact-names.ts).
 */
import { endianness } from 'node:os';
import type { BlobStore } from '../shared/blobs/index.ts';
import type { ArrayMeta } from '../shared/blobs/npy-header.ts';
import type { Db } from '../shared/db.ts';
import { wantsArtefact } from '../shared/jobs/job-artefact-names.ts';
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
  data: ArrayBufferView;
}

/** A typed array's bytes in 1 MiB views (no copies). */
async function* bytesOf(data: ArrayBufferView): AsyncIterable<Uint8Array> {
  const step = 2 ** 20;
  for (let at = 0; at < data.byteLength; at += step) yield new Uint8Array(data.buffer, data.byteOffset + at, Math.min(step, data.byteLength - at));
}

export class JobArtefactWriter {
  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
  ) {
    // Typed arrays are written as they lie in memory; artefacts are little-endian.
    if (endianness() !== 'LE') throw new Error('artefacts are written from little-endian memory');
  }

  /** The artefacts of a completed job; none when its plan stores none. Returns their names. */
  async write(row: Pick<JobRow, 'id' | 'tenant_id' | 'type' | 'params' | 'artefacts'>, spec: LatticeSpec, map: Uint8Array | undefined, result: Record<string, unknown>): Promise<string[]> {
    const plan = await getTenantPlan(this.db, row.tenant_id);
    if (!plan.stores_artefacts) return [];
    const artefacts = this.artefactsOf(row.type, row.params, spec, map, result).filter((artefact) => wantsArtefact(row, artefact.name));
    if (artefacts.length === 0) return [];
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
    return artefacts.map((a) => a.name);
  }

  private artefactsOf(type: string, params: Record<string, unknown>, spec: LatticeSpec, map: Uint8Array | undefined, result: Record<string, unknown>): Artefact[] {
    if (type === 'components') {
      // The sizes need the labelling pass too; only the labels' blob is left out when not asked for.
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
    return [];
  }
}

/** Labels under the `full` connectivity, numbered as the axis labelling numbers them (by smallest cell). */
function fullLabels(lattice: Lattice): { labels: Uint32Array; sizes: Uint32Array } {
  const out = { labels: new Uint32Array(lattice.cells), sizes: [] as number[] };
  floodComponents(lattice, 'full', null, out);
  return { labels: out.labels, sizes: Uint32Array.from(out.sizes) };
}
