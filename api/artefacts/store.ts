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

/** Whether the tenant has the job (another tenant's job is as absent as a missing one). */
export async function jobExists(trx: Knex, tenantId: string, jobId: string): Promise<{ status: string } | undefined> {
  return trx('jobs').where({ tenant_id: tenantId, id: jobId }).first<{ status: string } | undefined>('status');
}
