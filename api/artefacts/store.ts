/** SQL of job artefacts: a job's artefacts with their blobs, read as the tenant. */
import type { Knex } from '../../shared/db.ts';
import type { ArrayMeta } from '../../shared/blobs/npy-header.ts';

export interface ArtefactRow {
  name: string;
  blob_id: string;
  tenant_id: string;
  size: number;
  sha256: string;
  meta: ArrayMeta;
}

export async function listArtefacts(trx: Knex, tenantId: string, jobId: string): Promise<ArtefactRow[]> {
  return trx('job_artefacts as a')
    .join('blobs as b', 'b.id', 'a.blob_id')
    .where({ 'a.tenant_id': tenantId, 'a.job_id': jobId })
    .orderBy('a.name')
    .select<ArtefactRow[]>('a.name', 'a.blob_id', 'a.tenant_id', 'b.size', 'b.sha256', 'b.meta');
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
