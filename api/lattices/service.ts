/**
 * What the lattice routes do, apart from HTTP: a new lattice within the plan's count and size, and
 * a change merged into the current spec (a new spec is a new version; a new name alone is not).
 */
import type { z } from 'zod';
import type { Principal } from '../../shared/auth/principal.ts';
import type { BlobStore } from '../../shared/blobs/index.ts';
import { type Knex, withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { checkLatticeAgainstPlan, checkParsedLattice } from '../../shared/jobs/lattice-checks.ts';
import type { Boundary, LatticeSpec } from '../../shared/lattice/types.ts';
import type { Plan } from '../../shared/plans.ts';
import type { ListCursor } from '../../shared/list-cursor.ts';
import type { Runtime } from '../../shared/runtime.ts';
import type { PlanCache } from '../auth/plan-cache.ts';
import { lockTenant } from '../jobs/jobs-service.ts';
import type { CreateLatticeBody, UpdateLatticeBody } from '../jobs/schemas.ts';
import { checkObstacleMap } from './obstacle-maps.ts';
import type { DecodedMap } from './uploads/decoded-map.ts';
import {
  countLattices,
  createLattice,
  deleteLattice,
  findLattice,
  type LatticeRow,
  type ListedLattice,
  listLattices,
  lockLattice,
  updateLattice,
} from './store.ts';

/** The spec fields of a change (everything but the name). */
export type LatticeSpecChange = Omit<z.infer<typeof UpdateLatticeBody>, 'name'>;

/**
 * `current` with `change` applied: `shape` replaces `dimensions` and `size` and the other way
 * round; `obstacles: null` removes the obstacles.
 */
export function mergeLatticeSpec(current: LatticeSpec, change: LatticeSpecChange): LatticeSpec {
  const spec: Record<string, unknown> = { ...current };
  if (change.shape !== undefined) {
    delete spec['dimensions'];
    delete spec['size'];
    spec['shape'] = change.shape;
  }
  if (change.dimensions !== undefined || change.size !== undefined) {
    delete spec['shape'];
    if (change.dimensions !== undefined) spec['dimensions'] = change.dimensions;
    if (change.size !== undefined) spec['size'] = change.size;
  }
  if (change.boundary !== undefined) spec['boundary'] = change.boundary;
  if (change.obstacles === null) delete spec['obstacles'];
  else if (change.obstacles !== undefined) spec['obstacles'] = change.obstacles;
  return spec as LatticeSpec;
}

/** Media type of a stored obstacle map: packed bits (api/lattices/uploads/packed-bits.ts). */
export const PACKED_BITS_MEDIA_TYPE = 'application/x-catalytic-packed-bits';

/** Stands for the map's id in the checks made before the map is stored. */
const PENDING_MAP = '00000000-0000-4000-8000-000000000000';

export class LatticeService {
  constructor(
    private readonly runtime: Runtime,
    private readonly plans: Pick<PlanCache, 'get' | 'all'>,
  ) {}

  /** Stores a lattice, within the plan's lattice count and lattice size. */
  async create(principal: Principal, body: z.infer<typeof CreateLatticeBody>): Promise<LatticeRow> {
    const { tenantId } = principal;
    const { name, ...spec } = body;
    const checked = checkParsedLattice(spec);
    const plan = await this.plans.get(principal.planCode);
    checkLatticeAgainstPlan(checked.summary, plan, await this.plans.all());
    return withTenant(this.runtime.db, tenantId, async (trx) => {
      await this.checkLatticeCount(trx, tenantId, plan);
      await checkObstacleMap(trx, tenantId, checked);
      return createLattice(trx, tenantId, name ?? null, checked);
    });
  }

  /**
   * Stores an uploaded obstacle map and a lattice of its shape that references it, in one
   * transaction: a map refused anywhere (format, plan, quota, a truncated body) stores nothing.
   */
  async createFromUpload(principal: Principal, options: { name?: string; boundary: Boundary; format: string }, decoded: DecodedMap, blobs: BlobStore): Promise<LatticeRow> {
    const { tenantId } = principal;
    const plan = await this.plans.get(principal.planCode);
    // The shape comes from the header alone: a map larger than the plan allows is refused before its data is read.
    const spec = { shape: decoded.shape, boundary: options.boundary, obstacles: { map: PENDING_MAP } };
    const checked = checkParsedLattice(spec);
    checkLatticeAgainstPlan(checked.summary, plan, await this.plans.all());
    return withTenant(this.runtime.db, tenantId, async (trx) => {
      await this.checkLatticeCount(trx, tenantId, plan);
      const blob = await blobs.put(
        trx,
        tenantId,
        plan,
        { kind: 'obstacle_map', mediaType: PACKED_BITS_MEDIA_TYPE, meta: { shape: decoded.shape, format: options.format } },
        decoded.bits,
      );
      if (blob.size !== Math.ceil(checked.summary.cells / 8)) throw new Error(`obstacle map ${blob.id} holds ${blob.size} bytes for ${checked.summary.cells} cells`);
      return createLattice(trx, tenantId, options.name ?? null, checkParsedLattice({ ...spec, obstacles: { map: blob.id } }));
    });
  }

  private async checkLatticeCount(trx: Knex.Transaction, tenantId: string, plan: Plan): Promise<void> {
    if (plan.max_lattices < 0) return;
    await lockTenant(trx, 'lattices', tenantId);
    const count = await countLattices(trx, tenantId);
    if (count >= plan.max_lattices) {
      throw new AppError('plan_limit_exceeded', `The ${plan.name} plan allows ${plan.max_lattices} lattices`, {
        extra: { limit: 'max_lattices', limit_value: plan.max_lattices, value: count + 1, plan: plan.code },
      });
    }
  }

  list(tenantId: string, options: { limit: number; after?: ListCursor }): Promise<{ rows: ListedLattice[]; next?: ListCursor }> {
    return withTenant(this.runtime.db, tenantId, (trx) => listLattices(trx, tenantId, options));
  }

  async get(tenantId: string, id: string): Promise<LatticeRow> {
    const row = await withTenant(this.runtime.db, tenantId, (trx) => findLattice(trx, tenantId, id));
    if (!row) throw new AppError('not_found', `No lattice ${id}`);
    return row;
  }

  /** Changes a lattice: a new spec (checked against the plan) is a new version. */
  async update(principal: Principal, id: string, body: z.infer<typeof UpdateLatticeBody>): Promise<LatticeRow> {
    const { tenantId } = principal;
    const [plan, plans] = await Promise.all([this.plans.get(principal.planCode), this.plans.all()]);
    return withTenant(this.runtime.db, tenantId, async (trx) => {
      const current = await lockLattice(trx, tenantId, id);
      if (!current) throw new AppError('not_found', `No lattice ${id}`);
      const { name, ...change } = body;
      // A new name alone keeps the version: only a change of the spec makes a new one.
      if (Object.values(change).every((value) => value === undefined)) return updateLattice(trx, current, { name });
      const checked = checkParsedLattice(mergeLatticeSpec(current.spec, change));
      checkLatticeAgainstPlan(checked.summary, plan, plans);
      await checkObstacleMap(trx, tenantId, checked);
      return updateLattice(trx, current, { name, checked });
    });
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const deleted = await withTenant(
      this.runtime.db,
      tenantId,
      async (trx) => (await lockLattice(trx, tenantId, id)) !== undefined && deleteLattice(trx, tenantId, id),
    );
    if (!deleted) throw new AppError('not_found', `No lattice ${id}`);
  }
}
