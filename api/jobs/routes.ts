/**
 * Jobs (docs/http-api.md › Lattices and jobs): `POST /api/jobs` (202, `Idempotency-Key`), `GET /api/jobs` (filters and
 * cursor pagination), `GET /api/jobs/:id`, `GET /api/jobs/:id/result`, `GET /api/jobs/:id/events`
 * (server-sent events) and `DELETE /api/jobs/:id` (cancel).
 *
 * Another tenant's job is a 404, like a missing one. The two reads of one job take a single
 * PostgreSQL round trip (job-reads.ts): they are what polling clients call most.
 */
import { boundDiffusionLists } from './diffusion-list-bound.ts';
import { boundObstacleList } from './obstacle-list-bound.ts';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { jobBody, jobSummary } from '../../shared/jobs/job-body.ts';
import { findJob, listJobs } from '../../shared/jobs/repository.ts';
import { listCursorParam } from '../../shared/list-cursor.ts';
import { streamJobEvents } from './event-stream.ts';
import { readJobWithResult } from './job-reads.ts';
import { idempotencyKeyOf, jobLinks, jobResponse } from './responses.ts';
import { listPage } from '../list-page.ts';
import {
  CancelJobsBody,
  CancelJobsResultSchema,
  IdempotencyHeaders,
  IdParams,
  JobListQuery,
  JobListSchema,
  JobResponseSchema,
  ResultSchema,
  SubmitJobBody,
} from './schemas.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

const TAGS = ['Jobs'];
const READ = { scopes: ['jobs:read'] } as const;
const WRITE = { scopes: ['jobs:write'] } as const;

export function jobRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;
  const service = deps.jobs;
  const [boundObstacles, boundHeatPoints] = [boundObstacleList(deps.identity.plans, ['lattice']), boundDiffusionLists(deps.identity.plans)];

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/jobs',
    summary: 'Submit a job on a stored lattice (lattice_id) or an inline one (lattice)',
    tags: TAGS,
    auth: WRITE,
    body: SubmitJobBody,
    checkRawBody: async (raw, principal) => {
      await boundObstacles(raw, principal);
      await boundHeatPoints(raw, principal);
    },
    headers: IdempotencyHeaders,
    responses: {
      202: { description: 'Accepted and queued (or the job an earlier request with the same Idempotency-Key made)', schema: JobResponseSchema },
      402: { description: 'The lattice is larger than the plan allows' },
      409: { description: 'The Idempotency-Key was used with a different request' },
      422: { description: 'The job needs more memory than a worker holds (MAX_JOB_MEMORY_BYTES)' },
    },
    async handler(ctx, { body, principal }) {
      const { row, replayed } = await service.submit(principal, body, idempotencyKeyOf(ctx), '/api/jobs');
      ctx.status = 202;
      ctx.set('Location', `/api/jobs/${row.id}`);
      if (replayed) ctx.set('Idempotent-Replayed', 'true');
      ctx.body = jobResponse(jobBody(row));
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/jobs',
    summary: 'List jobs, newest first, as summaries (no result bodies: GET a job or its result for them)',
    tags: TAGS,
    auth: READ,
    query: JobListQuery,
    responses: { 200: { description: 'A page of jobs', schema: JobListSchema } },
    async handler(ctx, { query, principal }) {
      const { tenantId } = principal;
      const after = listCursorParam(query.cursor);
      const page = await withTenant(db, tenantId, (trx) =>
        listJobs(trx, tenantId, {
          status: query.status,
          type: query.type,
          labels: query.label,
          batchId: query.batch_id,
          createdAfter: query.created_after,
          after,
          limit: query.limit,
        }),
      );
      ctx.body = listPage(page.rows, page.next, (row) => ({ ...jobSummary(row, row.result_summary), links: jobLinks(row.id) }));
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/jobs/cancel',
    summary: 'Cancel the unfinished jobs that match a filter (labels, batch, status, type, creation time), up to 10,000 a call',
    tags: TAGS,
    auth: WRITE,
    body: CancelJobsBody,
    responses: { 200: { description: 'What was cancelled; `more` when more jobs match', schema: CancelJobsResultSchema } },
    async handler(ctx, { body, principal }) {
      ctx.body = await service.cancelMany(principal.tenantId, {
        labels: body.label,
        batchId: body.batch_id,
        status: body.status,
        type: body.type,
        createdAfter: body.created_after,
      });
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/jobs/:id',
    summary: 'Get a job (with its result once completed)',
    tags: TAGS,
    auth: READ,
    params: IdParams,
    responses: { 200: { description: 'The job', schema: JobResponseSchema } },
    async handler(ctx, { params, principal }) {
      const { tenantId } = principal;
      const body = await readJobWithResult(db, tenantId, params.id);
      if (!body) throw new AppError('not_found', `No job ${params.id}`);
      ctx.body = jobResponse(body);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/jobs/:id/result',
    summary: "Get a completed job's result",
    tags: TAGS,
    auth: READ,
    params: IdParams,
    responses: {
      200: { description: 'The kernel result', schema: ResultSchema },
      409: { description: 'The job has not finished (job_not_finished) or ended without a result (job_without_result)' },
    },
    async handler(ctx, { params, principal }) {
      const { tenantId } = principal;
      const body = await readJobWithResult(db, tenantId, params.id);
      if (!body) throw new AppError('not_found', `No job ${params.id}`);
      if (body.status === 'queued' || body.status === 'running') {
        throw new AppError('job_not_finished', `The job is ${body.status}`, { extra: { job_status: body.status }, headers: { 'Retry-After': '1' } });
      }
      if (!body.result) {
        throw new AppError('job_without_result', `The job ${body.status === 'failed' ? 'failed' : 'was cancelled'}`, {
          extra: { job_status: body.status, error: body.error },
        });
      }
      ctx.body = body.result;
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/jobs/:id/events',
    summary: "Follow a job's status and progress as server-sent events until it finishes",
    tags: TAGS,
    auth: READ,
    params: IdParams,
    responses: {
      200: {
        description: '`event: status` (the job) on each status change, `event: progress` ({id, progress}); ends after a final status',
        schema: z.string(),
        contentType: 'text/event-stream',
      },
    },
    async handler(ctx, { params, principal }) {
      const { tenantId } = principal;
      const exists = await withTenant(db, tenantId, (trx) => findJob(trx, tenantId, params.id));
      if (!exists) throw new AppError('not_found', `No job ${params.id}`);
      await streamJobEvents(ctx, service, tenantId, params.id);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'delete',
    path: '/api/jobs/:id',
    summary: 'Cancel a job: a queued one never runs; a running one stops within a second',
    tags: TAGS,
    auth: WRITE,
    params: IdParams,
    responses: {
      200: { description: 'The job is cancelled', schema: JobResponseSchema },
      202: { description: 'The job is running; it is being stopped', schema: JobResponseSchema },
      409: { description: 'The job already completed or failed (job_finished)' },
    },
    async handler(ctx, { params, principal }) {
      const { tenantId, planCode } = principal;
      const outcome = await service.cancel(tenantId, params.id, planCode);
      ctx.status = outcome.kind === 'cancelled' ? 200 : 202;
      ctx.body = jobResponse(jobBody(outcome.row));
    },
  });

  return router;
}
