/**
 * A completed job's full results, stored as artefacts (docs/architecture.md › Blobs): components →
 * `labels` (uint32 per cell, 0 = blocked) and `component_sizes`; shortest_path → `path` (uint32
 * coordinates, one row per cell). Each is a blob of raw little-endian bytes with its dtype and
 * shape, written with its `job_artefacts` row in one transaction, within the plan's storage. A plan
 * that stores no artefacts (`stores_artefacts` false) gets none.
 */
import { endianness } from 'node:os';
import type { BlobStore } from '../shared/blobs/index.ts';
import type { ArrayMeta } from '../shared/blobs/npy-header.ts';
import type { Db } from '../shared/db.ts';
import type { JobRow } from '../shared/jobs/types.ts';
import { resolveLattice } from '../shared/lattice/resolve.ts';
import type { LatticeSpec } from '../shared/lattice/types.ts';
import { getTenantPlan, type Plan } from '../shared/plans.ts';
import { ComponentLabelStream, type SlabLabeller } from './component-label-stream.ts';
import { labelSlab } from './kernels/slab-labels.ts';

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

/** Labels slabs on the caller's own thread: for stand-in kernel runners in tests. */
const inlineLabeller: SlabLabeller = async (slab) => labelSlab(slab.lattice, slab.rowFrom, slab.rowTo, new Uint32Array(slab.labels), new Uint32Array(slab.sizes));

/** Where the component labels are computed: the kernel pool's threads, and how many. */
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

  /** The artefacts of a completed job; none when its plan stores none. Returns their names. */
  async write(
    row: Pick<JobRow, 'id' | 'tenant_id' | 'type'>,
    spec: LatticeSpec,
    map: Uint8Array | undefined,
    result: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const plan = await getTenantPlan(this.db, row.tenant_id);
    if (!plan.stores_artefacts) return [];
    if (row.type === 'components') return this.writeLabels(row, plan, spec, map, signal);
    const artefacts = this.artefactsOf(row.type, result);
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

  /**
   * components → `labels` and `component_sizes`, streamed a slab at a time from the kernel threads
   * into the blob store (component-label-stream.ts), never a label per cell in memory.
   */
  private async writeLabels(row: Pick<JobRow, 'id' | 'tenant_id'>, plan: Plan, spec: LatticeSpec, map: Uint8Array | undefined, signal?: AbortSignal): Promise<string[]> {
    const lattice = resolveLattice(spec, map);
    const labels = new ComponentLabelStream(lattice, this.labelThreads.labelSlab, this.labelThreads.threads, signal);
    try {
      await labels.prepare();
      await this.db.transaction(async (trx) => {
        // As for the other artefacts: the job's synchronous final write flushes the WAL.
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
    return ['labels', 'component_sizes'];
  }

  private artefactsOf(type: string, result: Record<string, unknown>): Artefact[] {
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
