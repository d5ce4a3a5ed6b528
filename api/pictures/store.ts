/** SQL of pictures: the job a picture shows, with its lattice spec, read as the tenant. */
import type { Knex } from '../../shared/db.ts';
import { joinSpec } from '../../shared/lattice/canonical.ts';
import type { LatticeSpec } from '../../shared/lattice/types.ts';

export interface PictureJob {
  type: string;
  status: string;
  result: Record<string, unknown> | null;
  spec: LatticeSpec;
}

/** The tenant's job and the spec it ran on (another tenant's job is as absent as a missing one). */
export async function pictureJob(trx: Knex, tenantId: string, jobId: string): Promise<PictureJob | undefined> {
  const job = (await trx('jobs as j')
    .leftJoin('job_results as r', 'r.job_id', 'j.id')
    .where({ 'j.tenant_id': tenantId, 'j.id': jobId })
    .first('j.type', 'j.status', 'r.result', 'j.lattice', 'j.lattice_version_id')) as
    | { type: string; status: string; result: Record<string, unknown> | null; lattice: LatticeSpec | null; lattice_version_id: string | null }
    | undefined;
  if (!job) return undefined;
  let spec = job.lattice;
  if (spec === null && job.lattice_version_id !== null) {
    const version = (await trx('lattice_versions').where({ id: job.lattice_version_id, tenant_id: tenantId }).first('spec', 'blocked')) as
      | { spec: LatticeSpec; blocked: number[][] | null }
      | undefined;
    if (version) spec = joinSpec(version.spec, version.blocked);
  }
  if (spec === null) return undefined;
  return { type: job.type, status: job.status, result: job.result, spec };
}
