/** Stored lattices arranged directly in the database (a lattice row and its version 1), for tests not about the lattice routes. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { splitSpec } from '../../shared/lattice/canonical.ts';
import { parseLattice } from '../../shared/lattice/resolve.ts';

export async function insertLattice(db: Knex, tenantId: string, options: { name?: string | null; spec: unknown }): Promise<string> {
  const { spec, summary } = parseLattice(options.spec);
  const { head, blocked } = splitSpec(spec);
  const id = randomUUID();
  const versionId = randomUUID();
  await db.transaction(async (trx) => {
    await trx('lattices').insert({ id, tenant_id: tenantId, name: options.name ?? null, version_id: versionId, dimensions: summary.dimensions, cells: summary.cells });
    await trx('lattice_versions').insert({
      id: versionId,
      tenant_id: tenantId,
      lattice_id: id,
      version: 1,
      spec: JSON.stringify(head),
      blocked: blocked === null ? null : JSON.stringify(blocked),
      dimensions: summary.dimensions,
      cells: summary.cells,
    });
  });
  return id;
}
