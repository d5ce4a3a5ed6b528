/**
 * The lattice spec a job runs on: its inline spec, or the stored lattice version it references,
 * read from PostgreSQL (head and obstacle list joined back into one spec). Versions are immutable,
 * so recently used ones are kept: a burst of jobs on one lattice reads its obstacles once.
 */
import type { Db } from '../shared/db.ts';
import type { JobRow } from '../shared/jobs/types.ts';
import { joinSpec } from '../shared/lattice/canonical.ts';
import type { LatticeSpec } from '../shared/lattice/types.ts';

/** Versions kept; each holds at most one obstacle list of a request body's size. */
const CACHED_VERSIONS = 32;

export class JobLatticeLoader {
  private readonly cache = new Map<string, LatticeSpec>();

  constructor(private readonly db: Db) {}

  /** The job's spec. Throws when its version is gone (it cannot be: jobs hold a reference). */
  async specOf(row: Pick<JobRow, 'id' | 'tenant_id' | 'lattice' | 'lattice_version_id'>): Promise<LatticeSpec> {
    if (row.lattice !== null) return row.lattice;
    const versionId = row.lattice_version_id;
    if (versionId === null) throw new Error(`job ${row.id} has neither a lattice nor a lattice version`);
    const cached = this.cache.get(versionId);
    if (cached) {
      // Most recently used last: Map keeps insertion order.
      this.cache.delete(versionId);
      this.cache.set(versionId, cached);
      return cached;
    }
    const found = (await this.db('lattice_versions').where({ id: versionId, tenant_id: row.tenant_id }).first('spec', 'blocked')) as
      | { spec: LatticeSpec; blocked: number[][] | null }
      | undefined;
    if (!found) throw new Error(`lattice version ${versionId} of job ${row.id} is missing`);
    const spec = joinSpec(found.spec, found.blocked);
    this.cache.set(versionId, spec);
    if (this.cache.size > CACHED_VERSIONS) this.cache.delete(this.cache.keys().next().value as string);
    return spec;
  }
}
