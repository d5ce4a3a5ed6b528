/**
 * A spec that names an uploaded obstacle map must name one of the tenant's maps, of the lattice's
 * own shape: checked in the transaction that stores the spec, so the map cannot go in between
 * (retention deletes only blobs that nothing references).
 */
import type { Knex } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import type { CheckedLattice } from '../../shared/lattice/resolve.ts';

function mapProblem(message: string): AppError {
  return new AppError('lattice_invalid', message, { extra: { field: 'body.obstacles.map', errors: [{ path: 'body.obstacles.map', message }] } });
}

export async function checkObstacleMap(trx: Knex.Transaction, tenantId: string, checked: CheckedLattice): Promise<void> {
  const obstacles = checked.spec.obstacles;
  if (obstacles === undefined || !('map' in obstacles)) return;
  const blob = (await trx('blobs').where({ tenant_id: tenantId, id: obstacles.map, kind: 'obstacle_map' }).first('meta')) as
    | { meta: { shape?: number[] } }
    | undefined;
  if (!blob) throw mapProblem(`No obstacle map ${obstacles.map}`);
  const shape = blob.meta.shape ?? [];
  if (shape.join(',') !== checked.summary.shape.join(',')) {
    throw mapProblem(`The obstacle map is [${shape.join(' x ')}] but the lattice is [${checked.summary.shape.join(' x ')}]`);
  }
}
