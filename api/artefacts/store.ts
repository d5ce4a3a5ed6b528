/** SQL of job artefacts: a job's artefacts with their blobs (or their bytes, kept in the result row), read as the tenant. */
import type { Knex } from '../../shared/db.ts';
import type { BlobStore } from '../../shared/blobs/index.ts';
import type { ArrayMeta } from '../../shared/blobs/npy-header.ts';

export interface ArtefactRow {
  name: string;
  /** The blob holding the bytes; null for an artefact kept in the result row (`inline`). */
  blob_id: string | null;
  tenant_id: string;
  size: number;
  sha256: string;
  meta: ArrayMeta;
  /** The bytes of a small artefact kept in the job's result row (shared/jobs/inline-artefacts.ts). */
  inline: Buffer | null;
}

/** A job's artefacts, stored ones and those kept in its result row alike, by name. */
export async function listArtefacts(trx: Knex, tenantId: string, jobId: string): Promise<ArtefactRow[]> {
  const { rows } = await trx.raw<{ rows: ArtefactRow[] }>(
    `select a.name, a.blob_id, a.tenant_id, b.size, b.sha256, b.meta, null::bytea as inline
       from job_artefacts a join blobs b on b.id = a.blob_id
      where a.tenant_id = ? and a.job_id = ?
     union all
     select e.key, null, r.tenant_id, (e.value->>'size')::bigint, e.value->>'sha256', e.value->'meta', decode(e.value->>'data', 'base64')
       from job_results r, jsonb_each(r.artefacts) e
      where r.tenant_id = ? and r.job_id = ? and r.artefacts is not null
      order by name`,
    [tenantId, jobId, tenantId, jobId],
  );
  return rows;
}

/**
 * An artefact's bytes (all of them, or `range`, inclusive) from the blob store, or from the row
 * for one kept in the job's result: what reads an artefact reads it through this.
 */
export function artefactReader(blobs: Pick<BlobStore, 'read'>, row: ArtefactRow): Pick<BlobStore, 'read'> {
  const { inline } = row;
  if (!inline) return blobs;
  return {
    read: (_blob, range) =>
      (async function* () {
        const from = range?.start ?? 0;
        const to = range?.end ?? inline.length - 1;
        if (to >= from) yield inline.subarray(from, to + 1);
      })(),
  };
}

/** What the artefact routes read of a job: its state, type and the artefacts its body asked for. */
export interface ArtefactJob {
  status: string;
  type: string;
  artefacts: string[] | null;
}

/** The tenant's job, if it has it (another tenant's job is as absent as a missing one). */
export async function jobExists(trx: Knex, tenantId: string, jobId: string): Promise<ArtefactJob | undefined> {
  return trx('jobs').where({ tenant_id: tenantId, id: jobId }).first<ArtefactJob | undefined>('status', 'type', 'artefacts');
}
