/**
 * Stored lattices. A lattice row names its current version; the content lives in immutable
 * `lattice_versions` rows: the spec's head (shape, boundary, a procedural rule) and, apart, an
 * explicit obstacle list in canonical form. A change makes a new version; a job references the
 * version it was submitted with, so jobs never copy a spec and never see a later change. Only
 * this module and the worker's loader read versions. Nothing is ever materialised.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { joinSpec, splitSpec } from '../../shared/lattice/canonical.ts';
import type { LatticeSummary } from '../../shared/lattice/resolve.ts';
import type { LatticeSpec } from '../../shared/lattice/types.ts';
import { shapeOfSpec } from '../../shared/lattice/validate.ts';
import type { ListCursor } from '../../shared/list-cursor.ts';

/** A lattice with its current spec. */
export interface LatticeRow {
  id: string;
  tenant_id: string;
  name: string | null;
  version: number;
  version_id: string;
  spec: LatticeSpec;
  dimensions: number;
  cells: number;
  created_at: Date;
  updated_at: Date;
}

/** A row as listed: the spec's head (no obstacle list), and what kind of obstacles it has. */
export type ListedLattice = LatticeRow & { obstacle_kind: 'none' | 'explicit' | 'procedural' | 'map'; cursor_at: string };

/** What a submission reads of a lattice's current version: never its obstacle list. */
export interface LatticeVersionHead {
  lattice_id: string;
  version_id: string;
  /** The spec without an explicit obstacle list (which does not bear on a job's validity). */
  head: LatticeSpec;
}

const LATTICE_COLUMNS = ['l.id', 'l.tenant_id', 'l.name', 'l.version', 'l.version_id', 'l.dimensions', 'l.cells', 'l.created_at', 'l.updated_at'];

type Reader = Knex | Knex.Transaction;

async function readLattice(query: Knex.QueryBuilder): Promise<LatticeRow | undefined> {
  const row = (await query.first([...LATTICE_COLUMNS, 'v.spec as head', 'v.blocked'])) as
    | (Omit<LatticeRow, 'spec'> & { head: LatticeSpec; blocked: number[][] | null })
    | undefined;
  if (!row) return undefined;
  const { head, blocked, ...rest } = row;
  return { ...rest, spec: joinSpec(head, blocked) };
}

export async function findLattice(trx: Reader, tenantId: string, id: string): Promise<LatticeRow | undefined> {
  return readLattice(trx('lattices as l').join('lattice_versions as v', 'v.id', 'l.version_id').where({ 'l.tenant_id': tenantId, 'l.id': id }));
}

/** The lattice, its row locked against changes and submissions until the transaction ends. */
export async function lockLattice(trx: Knex.Transaction, tenantId: string, id: string): Promise<LatticeRow | undefined> {
  const locked = await trx('lattices').where({ tenant_id: tenantId, id }).forUpdate().first('id');
  return locked ? findLattice(trx, tenantId, id) : undefined;
}

export async function countLattices(trx: Knex.Transaction, tenantId: string): Promise<number> {
  const row = await trx('lattices').where({ tenant_id: tenantId }).count<{ count: string | number }>('* as count').first();
  return Number(row?.count ?? 0);
}

/** Writes a checked spec as a version of `latticeId` (its obstacle list apart from its head). */
async function insertVersion(
  trx: Knex.Transaction,
  tenantId: string,
  latticeId: string,
  version: number,
  checked: { spec: LatticeSpec; summary: LatticeSummary },
  id: string = randomUUID(),
): Promise<string> {
  const { head, blocked } = splitSpec(checked.spec);
  await trx('lattice_versions').insert({
    id,
    tenant_id: tenantId,
    lattice_id: latticeId,
    version,
    spec: JSON.stringify(head),
    blocked: blocked === null ? null : JSON.stringify(blocked),
    dimensions: checked.summary.dimensions,
    cells: checked.summary.cells,
  });
  return id;
}

/** Stores a new lattice (version 1) from a checked, canonical spec. */
export async function createLattice(
  trx: Knex.Transaction,
  tenantId: string,
  name: string | null,
  checked: { spec: LatticeSpec; summary: LatticeSummary },
): Promise<LatticeRow> {
  const id = randomUUID();
  const versionId = randomUUID();
  // The lattice first (the version refers to it); its reference to the version is checked at commit.
  const [row] = (await trx('lattices')
    .insert({ id, tenant_id: tenantId, name, version: 1, version_id: versionId, dimensions: checked.summary.dimensions, cells: checked.summary.cells })
    .returning('*')) as Array<Omit<LatticeRow, 'spec'>>;
  await insertVersion(trx, tenantId, id, 1, checked, versionId);
  return { ...(row as Omit<LatticeRow, 'spec'>), spec: checked.spec };
}

/**
 * Gives a locked lattice (see {@link lockLattice}) a new name and, when `checked` is given, a
 * new version; the version it replaces is removed unless jobs reference it.
 */
export async function updateLattice(
  trx: Knex.Transaction,
  current: LatticeRow,
  change: { name?: string | null; checked?: { spec: LatticeSpec; summary: LatticeSummary } },
): Promise<LatticeRow> {
  const { checked } = change;
  const version = checked ? current.version + 1 : current.version;
  const versionId = checked ? await insertVersion(trx, current.tenant_id, current.id, version, checked) : current.version_id;
  const [row] = (await trx('lattices')
    .where({ tenant_id: current.tenant_id, id: current.id })
    .update({
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(checked ? { version, version_id: versionId, dimensions: checked.summary.dimensions, cells: checked.summary.cells } : {}),
      updated_at: trx.fn.now(),
    })
    .returning('*')) as Array<Omit<LatticeRow, 'spec'>>;
  if (checked) await deleteUnusedVersions(trx, current.tenant_id, current.id, versionId);
  return { ...(row as Omit<LatticeRow, 'spec'>), spec: checked ? checked.spec : current.spec };
}

/** Deletes a locked lattice and its versions that no job references (the others stay for their jobs). */
export async function deleteLattice(trx: Knex.Transaction, tenantId: string, id: string): Promise<boolean> {
  await deleteUnusedVersions(trx, tenantId, id);
  return (await trx('lattices').where({ tenant_id: tenantId, id }).delete()) > 0;
}

async function deleteUnusedVersions(trx: Knex.Transaction, tenantId: string, latticeId: string, keep?: string): Promise<void> {
  const query = trx('lattice_versions as v')
    .where({ 'v.tenant_id': tenantId, 'v.lattice_id': latticeId })
    .whereNotExists(trx('jobs as j').select(trx.raw('1')).whereRaw('j.lattice_version_id = v.id'));
  if (keep) query.whereNot('v.id', keep);
  await query.delete();
}

/**
 * The current versions of lattices for job submissions: the lattice rows are locked (key share)
 * until the transaction ends, so neither a change nor a deletion can retire a version while a
 * job that references it is being written. Reads heads only, never obstacle lists: a submission
 * costs the same on a lattice of a million obstacles as on an empty one.
 */
export async function currentVersionHeads(trx: Knex.Transaction, tenantId: string, latticeIds: readonly string[]): Promise<LatticeVersionHead[]> {
  if (latticeIds.length === 0) return [];
  const locked = (await trx('lattices')
    .where('tenant_id', tenantId)
    .whereIn('id', [...latticeIds])
    .forKeyShare()
    .select('id', 'version_id')) as Array<{ id: string; version_id: string }>;
  if (locked.length === 0) return [];
  // A second statement: it sees a version committed while this one waited for a lock.
  const heads = (await trx('lattice_versions')
    .where('tenant_id', tenantId)
    .whereIn(
      'id',
      locked.map((l) => l.version_id),
    )
    .select('id', 'spec')) as Array<{ id: string; spec: LatticeSpec }>;
  const byId = new Map(heads.map((h) => [h.id, h.spec]));
  return locked.flatMap((l) => {
    const head = byId.get(l.version_id);
    return head ? [{ lattice_id: l.id, version_id: l.version_id, head }] : [];
  });
}

/** A page of lattices, newest first, with the heads of their specs (never obstacle lists). */
export async function listLattices(
  trx: Knex.Transaction,
  tenantId: string,
  options: { limit: number; after?: ListCursor },
): Promise<{ rows: ListedLattice[]; next?: ListCursor }> {
  const query = trx('lattices as l')
    .join('lattice_versions as v', 'v.id', 'l.version_id')
    .where('l.tenant_id', tenantId)
    .select<ListedLattice[]>(
      ...LATTICE_COLUMNS,
      'v.spec as spec',
      trx.raw(
        `case when v.blocked is not null then 'explicit' when jsonb_exists(v.spec->'obstacles', 'map') then 'map' when jsonb_exists(v.spec, 'obstacles') then 'procedural' else 'none' end as obstacle_kind`,
      ),
      trx.raw(`to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`),
    )
    .orderBy([
      { column: 'l.created_at', order: 'desc' },
      { column: 'l.id', order: 'desc' },
    ])
    .limit(options.limit + 1);
  if (options.after) query.andWhereRaw('(l.created_at, l.id) < (?::timestamptz, ?::uuid)', [options.after.at, options.after.id]);
  const rows = await query;
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > options.limit && last ? { at: last.cursor_at, id: last.id } : undefined };
}

function shapeOf(spec: LatticeSpec): number[] {
  const shape = shapeOfSpec(spec);
  return Array.isArray(shape) ? shape : [];
}

/** The public form of a stored lattice. */
export function latticeJson(row: LatticeRow) {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    spec: row.spec,
    dimensions: row.dimensions,
    shape: shapeOf(row.spec),
    cells: Number(row.cells),
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

/** A lattice in a listing: without its obstacles (an explicit list can be long). */
export function latticeSummaryJson(row: ListedLattice) {
  const { spec, ...rest } = latticeJson(row);
  return { ...rest, boundary: spec.boundary ?? 'open', obstacles: row.obstacle_kind };
}
