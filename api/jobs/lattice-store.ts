/**
 * Stored lattices: a lattice is its spec (shape, boundary, obstacles) in PostgreSQL, with its
 * dimensions and cell count alongside for listing and limits. Nothing is ever materialised.
 */
import type { Knex } from 'knex';
import type { ListCursor } from '../../shared/list-cursor.ts';
import { shapeOfSpec } from '../../shared/lattice/validate.ts';
import type { LatticeSpec } from '../../shared/lattice/types.ts';

export interface LatticeRow {
  id: string;
  tenant_id: string;
  name: string | null;
  spec: LatticeSpec;
  dimensions: number;
  cells: number;
  created_at: Date;
  updated_at: Date;
}

/** A row as listed: the spec without its obstacles, and what kind they were. */
export type ListedLattice = LatticeRow & { obstacle_kind: 'none' | 'explicit' | 'procedural'; cursor_at: string };

export async function findLattice(trx: Knex | Knex.Transaction, tenantId: string, id: string): Promise<LatticeRow | undefined> {
  return trx('lattices').where({ tenant_id: tenantId, id }).first<LatticeRow | undefined>();
}

export async function countLattices(trx: Knex.Transaction, tenantId: string): Promise<number> {
  const row = await trx('lattices').where({ tenant_id: tenantId }).count<{ count: string | number }>('* as count').first();
  return Number(row?.count ?? 0);
}

/** A page of lattices, newest first. */
export async function listLattices(
  trx: Knex.Transaction,
  tenantId: string,
  options: { limit: number; after?: ListCursor },
): Promise<{ rows: ListedLattice[]; next?: ListCursor }> {
  const query = trx('lattices')
    .where('tenant_id', tenantId)
    .select<ListedLattice[]>(
      'id',
      'tenant_id',
      'name',
      'dimensions',
      'cells',
      'created_at',
      'updated_at',
      // A listing leaves obstacle lists in the database: they can be long.
      trx.raw(`spec - 'obstacles' as spec`),
      trx.raw(
        `case when spec->'obstacles' is null then 'none' when jsonb_exists(spec->'obstacles', 'blocked') then 'explicit' else 'procedural' end as obstacle_kind`,
      ),
      trx.raw(`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`),
    )
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(options.limit + 1);
  if (options.after) query.andWhereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [options.after.at, options.after.id]);
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
