/**
 * Lattices (docs/http-api.md › Lattices and jobs): `POST|GET /api/lattices`, `GET|PATCH|DELETE /api/lattices/:id`, and
 * `POST /api/lattices/path`, which submits a shortest_path job and answers with its result when
 * it finishes within `wait_ms` (200), or with the queued job otherwise (202).
 *
 * A lattice is its spec, validated and stored in canonical form (an explicit obstacle list sorted,
 * each cell once, never longer than the lattice's cell count), never materialised. Each change of
 * the spec makes a new immutable version; a job references the version it was submitted with, so
 * editing or deleting a lattice never changes a submitted job, and no job copies a spec.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { jobBody } from '../../shared/jobs/job-body.ts';
import { isFinalStatus } from '../../shared/jobs/types.ts';
import { listCursorParam } from '../../shared/list-cursor.ts';
import { boundObstacleList } from '../jobs/obstacle-list-bound.ts';
import { idempotencyKeyOf, jobResponse, markReplayed, REPLAY_HEADERS } from '../jobs/responses.ts';
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
import { LatticeService } from './service.ts';
import { DARK_THRESHOLD } from './uploads/png-map.ts';
import { MAP_CONTENT_TYPES, formatOf, openUploadedMap } from './uploads/open-map.ts';
import { MAP_FORMATS } from './uploads/decoded-map.ts';
import { latticeJson, latticeSummaryJson } from './store.ts';

const TAGS = ['Lattices'];

const UploadQuery = z
  .object({
    format: z.enum(MAP_FORMATS).optional().describe('bits, npy or png; default: from the Content-Type'),
    shape: z.string().max(200).optional().describe('Packed bits only: the sides, comma-separated, axis 0 first (e.g. 64,64)'),
    name: z.string().min(1).max(200).optional().describe('A name for people'),
    boundary: z.enum(['open', 'periodic']).default('open'),
  })
  .strict()
  .openapi('LatticeUploadQuery');
const READ = { scopes: ['lattices:read'] } as const;
const WRITE = { scopes: ['lattices:write'] } as const;

export function latticeRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const plans = deps.identity.plans;
  const service = deps.jobs;
  const lattices = new LatticeService(deps.runtime, plans);

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/lattices',
    summary: 'Store a lattice spec (shape or dimensions+size, boundary, obstacles)',
    tags: TAGS,
    auth: WRITE,
    body: CreateLatticeBody,
    checkRawBody: [boundObstacleList(plans, [])],
    responses: {
      201: { description: 'The stored lattice', schema: LatticeSchema },
      402: { description: 'The plan allows no more lattices, or none this large' },
    },
    async handler(ctx, { body, principal }) {
      const row = await lattices.create(principal, body);
      ctx.status = 201;
      ctx.set('Location', `/api/lattices/${row.id}`);
      ctx.body = latticeJson(row);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/lattices/upload',
    summary: 'Upload an obstacle map (packed bits, .npy or PNG) and store a lattice of its shape that uses it',
    tags: TAGS,
    auth: WRITE,
    query: UploadQuery,
    rawBody: {
      contentTypes: Object.keys(MAP_CONTENT_TYPES),
      description:
        `The map, streamed: packed bits (application/octet-stream, one bit per cell row-major, bit i&7 of byte i>>3, 1 = blocked, with ?shape=), ` +
        `a NumPy .npy array of bool or uint8 (nonzero = blocked), or a 2-D PNG (rows are axis 0; a pixel is blocked when its luminance is below ${DARK_THRESHOLD} of 255, transparent pixels are open)`,
    },
    responses: {
      201: { description: 'The stored lattice; its obstacles name the uploaded map', schema: LatticeSchema },
      400: { description: 'The map is not valid (upload_invalid), ended early (upload_truncated), or its shape is not a lattice' },
      402: { description: 'The plan allows no more lattices, none this large, or no more storage' },
    },
    async handler(ctx, { query, principal }) {
      const format = formatOf(query.format, ctx.get('content-type') || undefined);
      const plan = await plans.get(principal.planCode);
      const decoded = await openUploadedMap(ctx.req, format, plan, query.shape);
      const row = await lattices.createFromUpload(principal, { name: query.name, boundary: query.boundary, format }, decoded, deps.blobs);
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
      const after = listCursorParam(query.cursor);
      const page = await lattices.list(principal.tenantId, { limit: query.limit, after });
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
      ctx.body = latticeJson(await lattices.get(principal.tenantId, params.id));
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
    checkRawBody: [boundObstacleList(plans, [])],
    responses: { 200: { description: 'The changed lattice', schema: LatticeSchema } },
    async handler(ctx, { params, body, principal }) {
      ctx.body = latticeJson(await lattices.update(principal, params.id, body));
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
      await lattices.remove(principal.tenantId, params.id);
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
      200: { description: 'The job finished in time: the job with its result (or its error)', schema: JobResponseSchema, headers: REPLAY_HEADERS },
      202: { description: 'Still running: follow the job at its links', schema: JobResponseSchema, headers: REPLAY_HEADERS },
      402: { description: "The lattice is larger than the plan allows, or the job costs more compute units than the plan's per-job limit" },
      409: { description: 'The Idempotency-Key was used with a different request' },
      422: { description: 'The job needs more memory than a worker holds (MAX_JOB_MEMORY_BYTES)' },
    },
    async handler(ctx, { body, principal }) {
      const { row, replayed } = await service.submit(
        principal,
        { type: 'shortest_path', lattice_id: body.lattice_id, params: { start: body.start, end: body.end, connectivity: 'axis' } },
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
      markReplayed(ctx, replayed);
      ctx.body = jobResponse(job);
    },
  });

  return router;
}
