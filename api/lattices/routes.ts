/**
 * Lattices (DESIGN.md §6): `POST|GET /api/lattices`, `GET|PATCH|DELETE /api/lattices/:id`, and
 * `POST /api/lattices/path`, which submits a shortest_path job and answers with its result when
 * it finishes within `wait_ms` (200), or with the queued job otherwise (202).
 *
 * A lattice is its spec, validated and stored in canonical form (an explicit obstacle list sorted,
 * each cell once, never longer than the lattice's cell count), never materialised. Each change of
 * the spec makes a new immutable version; a job references the version it was submitted with, so
 * editing or deleting a lattice never changes a submitted job, and no job copies a spec.
 */
import { boundObstacleList } from '../jobs/obstacle-list-bound.ts';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { jobBody } from '../../shared/jobs/job-body.ts';
import { listCursorParam } from '../../shared/list-cursor.ts';
import { checkLatticeAgainstPlan, checkParsedLattice } from '../../shared/jobs/lattice-checks.ts';
import type { LatticeSpec } from '../../shared/lattice/types.ts';
import { isFinalStatus } from '../../shared/jobs/types.ts';
import { jobsServiceFor, lockTenant } from '../jobs/jobs-service.ts';
import {
  countLattices,
  createLattice,
  deleteLattice,
  findLattice,
  latticeJson,
  latticeSummaryJson,
  listLattices,
  lockLattice,
  updateLattice,
} from './store.ts';
import { idempotencyKeyOf, jobResponse } from '../jobs/responses.ts';
import {
  CreateLatticeBody,
  IdempotencyHeaders,
  IdParams,
  JobResponseSchema,
  LatticeListQuery,
  LatticeListSchema,
  LatticeSchema,
  PathBody,
  UpdateLatticeBody,
} from '../jobs/schemas.ts';
import { listPage } from '../list-page.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

const TAGS = ['Lattices'];
const READ = { scopes: ['lattices:read'] } as const;
const WRITE = { scopes: ['lattices:write'] } as const;

export function latticeRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;
  const plans = deps.identity.plans;
  const service = jobsServiceFor(deps);

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/lattices',
    summary: 'Store a lattice spec (shape or dimensions+size, boundary, obstacles)',
    tags: TAGS,
    auth: WRITE,
    body: CreateLatticeBody,
    checkRawBody: boundObstacleList(plans, []),
    responses: {
      201: { description: 'The stored lattice', schema: LatticeSchema },
      402: { description: 'The plan allows no more lattices, or none this large' },
    },
    async handler(ctx, { body, principal }) {
      const { tenantId } = principal;
      const { name, ...spec } = body;
      const checked = checkParsedLattice(spec);
      const plan = await plans.get(principal.planCode);
      checkLatticeAgainstPlan(checked.summary, plan);
      const row = await withTenant(db, tenantId, async (trx) => {
        if (plan.max_lattices >= 0) {
          await lockTenant(trx, 'lattices', tenantId);
          const count = await countLattices(trx, tenantId);
          if (count >= plan.max_lattices) {
            throw new AppError('plan_limit_exceeded', `The ${plan.name} plan allows ${plan.max_lattices} lattices`, {
              extra: { limit: 'max_lattices', limit_value: plan.max_lattices, value: count + 1, plan: plan.code },
            });
          }
        }
        return createLattice(trx, tenantId, name ?? null, checked);
      });
      ctx.status = 201;
      ctx.set('Location', `/api/lattices/${row.id}`);
      ctx.body = latticeJson(row);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/lattices',
    summary: 'List lattices, newest first (without obstacle lists)',
    tags: TAGS,
    auth: READ,
    query: LatticeListQuery,
    responses: { 200: { description: 'A page of lattices', schema: LatticeListSchema } },
    async handler(ctx, { query, principal }) {
      const { tenantId } = principal;
      const after = listCursorParam(query.cursor);
      const page = await withTenant(db, tenantId, (trx) => listLattices(trx, tenantId, { limit: query.limit, after }));
      ctx.body = listPage(page.rows, page.next, latticeSummaryJson);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/lattices/:id',
    summary: 'Get a lattice',
    tags: TAGS,
    auth: READ,
    params: IdParams,
    responses: { 200: { description: 'The lattice', schema: LatticeSchema } },
    async handler(ctx, { params, principal }) {
      const { tenantId } = principal;
      const row = await withTenant(db, tenantId, (trx) => findLattice(trx, tenantId, params.id));
      if (!row) throw new AppError('not_found', `No lattice ${params.id}`);
      ctx.body = latticeJson(row);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'patch',
    path: '/api/lattices/:id',
    summary: 'Change a lattice: a new spec is a new version (jobs already submitted keep theirs)',
    tags: TAGS,
    auth: WRITE,
    params: IdParams,
    body: UpdateLatticeBody,
    checkRawBody: boundObstacleList(plans, []),
    responses: { 200: { description: 'The changed lattice', schema: LatticeSchema } },
    async handler(ctx, { params, body, principal }) {
      const { tenantId } = principal;
      const plan = await plans.get(principal.planCode);
      const row = await withTenant(db, tenantId, async (trx) => {
        const current = await lockLattice(trx, tenantId, params.id);
        if (!current) throw new AppError('not_found', `No lattice ${params.id}`);
        const { name, ...fields } = body;
        // A new name alone keeps the version: only a change of the spec makes a new one.
        if (Object.values(fields).every((value) => value === undefined)) return updateLattice(trx, current, { name });
        const spec: Record<string, unknown> = { ...current.spec };
        if (body.shape !== undefined) {
          delete spec['dimensions'];
          delete spec['size'];
          spec['shape'] = body.shape;
        }
        if (body.dimensions !== undefined || body.size !== undefined) {
          delete spec['shape'];
          if (body.dimensions !== undefined) spec['dimensions'] = body.dimensions;
          if (body.size !== undefined) spec['size'] = body.size;
        }
        if (body.boundary !== undefined) spec['boundary'] = body.boundary;
        if (body.obstacles === null) delete spec['obstacles'];
        else if (body.obstacles !== undefined) spec['obstacles'] = body.obstacles;
        const checked = checkParsedLattice(spec as LatticeSpec);
        checkLatticeAgainstPlan(checked.summary, plan);
        return updateLattice(trx, current, { name, checked });
      });
      ctx.body = latticeJson(row);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'delete',
    path: '/api/lattices/:id',
    summary: 'Delete a lattice (jobs already submitted keep their version of it)',
    tags: TAGS,
    auth: WRITE,
    params: IdParams,
    responses: { 204: { description: 'Deleted' } },
    async handler(ctx, { params, principal }) {
      const { tenantId } = principal;
      const deleted = await withTenant(db, tenantId, async (trx) => (await lockLattice(trx, tenantId, params.id)) !== undefined && deleteLattice(trx, tenantId, params.id));
      if (!deleted) throw new AppError('not_found', `No lattice ${params.id}`);
      ctx.status = 204;
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/lattices/path',
    summary: 'Shortest path on a stored lattice, answered at once when it finishes within wait_ms',
    tags: TAGS,
    auth: { scopes: ['jobs:write'] },
    body: PathBody,
    headers: IdempotencyHeaders,
    responses: {
      200: { description: 'The job finished in time: the job with its result (or its error)', schema: JobResponseSchema },
      202: { description: 'Still running: follow the job at its links', schema: JobResponseSchema },
      422: { description: 'The job needs more memory than a worker holds (MAX_JOB_MEMORY_BYTES)' },
    },
    async handler(ctx, { body, principal }) {
      const { row } = await service.submit(
        principal,
        { type: 'shortest_path', lattice_id: body.lattice_id, params: { start: body.start, end: body.end } },
        idempotencyKeyOf(ctx),
        '/api/lattices/path',
      );
      // wait_ms 0 answers at once with the job as submitted; otherwise as it is when it finished or the wait ran out.
      const current = isFinalStatus(row.status)
        ? await service.read(principal.tenantId, row.id)
        : body.wait_ms > 0
          ? await service.waitForFinal(principal.tenantId, row.id, body.wait_ms)
          : undefined;
      const job = current ?? jobBody(row);
      ctx.status = isFinalStatus(job.status) ? 200 : 202;
      if (ctx.status === 202) ctx.set('Location', `/api/jobs/${row.id}`);
      ctx.body = jobResponse(job);
    },
  });

  return router;
}
