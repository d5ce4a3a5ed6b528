/**
 * Jobs (docs/http-api.md › Lattices and jobs): `POST /api/jobs` (202, `Idempotency-Key`), `GET /api/jobs` (filters and
 * cursor pagination), `GET /api/jobs/:id`, `GET /api/jobs/:id/result`, `GET /api/jobs/:id/events`
 * (server-sent events) and `DELETE /api/jobs/:id` (cancel).
 *
 * Another tenant's job is a 404, like a missing one. The two reads of one job take a single
 * PostgreSQL round trip (job-reads.ts), and none while the job's state version stands
 * (job-state-cache.ts): they are what polling clients call most. `GET /api/jobs/:id` answers
 * `If-None-Match` with 304 and holds a poll on `Prefer: wait=N` or `?wait=N` (held-polls.ts).
 */
import { boundDiffusionLists } from './diffusion-list-bound.ts';
import { boundObstacleList } from './obstacle-list-bound.ts';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { AppError } from '../../shared/errors.ts';
import { jobBody, jobListItem } from '../../shared/jobs/job-body.ts';
import { SECOND } from '../../shared/units.ts';
import { listCursorParam } from '../../shared/list-cursor.ts';
import { streamJobEvents } from './event-stream.ts';
import { ifNoneMatchHits, requestedWait } from './conditional-read.ts';
import { idempotencyKeyOf, jobResponse, markReplayed, REPLAY_HEADERS } from './responses.ts';
import { listPageJson } from '../list-page.ts';
import {
  CancelJobsBody,
  CancelJobsResultSchema,
  IdempotencyHeaders,
  IdParams,
  JobListQuery,
  JobListSchema,
  JobReadHeaders,
  JobReadQuery,
  JobResponseSchema,
  ResultSchema,
  SubmitJobBody,
} from './schemas.ts';
import { defineRoute } from '../routing.ts';
import { ListReadSharing } from './list-read-sharing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

const TAGS = ['Jobs'];
const READ = { scopes: ['jobs:read'] } as const;
const WRITE = { scopes: ['jobs:write'] } as const;

export function jobRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;
  const service = deps.jobs;
  const lists = new ListReadSharing(db);
  const [boundObstacles, boundHeatPoints] = [boundObstacleList(deps.identity.plans, ['lattice']), boundDiffusionLists(deps.identity.plans)];

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/jobs',
    summary: 'Submit a job on a stored lattice (lattice_id) or an inline one (lattice)',
    tags: TAGS,
    auth: WRITE,
    body: SubmitJobBody,
    checkRawBody: [boundObstacles, boundHeatPoints],
    headers: IdempotencyHeaders,
    responses: {
      202: {
        description: 'Accepted and queued (or the job an earlier request with the same Idempotency-Key made)',
        schema: JobResponseSchema,
        headers: REPLAY_HEADERS,
      },
      402: { description: "The lattice is larger than the plan allows, or the job costs more compute units than the plan's per-job limit" },
      409: { description: 'The Idempotency-Key was used with a different request' },
      422: { description: 'The job needs more memory than a worker holds (MAX_JOB_MEMORY_BYTES)' },
    },
    async handler(ctx, { body, principal }) {
      const { row, replayed } = await service.submit(principal, body, idempotencyKeyOf(ctx), '/api/jobs');
      ctx.status = 202;
      ctx.set('Location', `/api/jobs/${row.id}`);
      markReplayed(ctx, replayed);
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
      const page = await lists.list(tenantId, {
        status: query.status,
        type: query.type,
        labels: query.label,
        batchId: query.batch_id,
        createdAfter: query.created_after,
        after,
        limit: query.limit,
      });
      // Each item serialised once: the page's byte budget needs its text anyway.
      ctx.type = 'application/json';
      ctx.body = lists.body(page, (p) => listPageJson(p.rows, p.next, (row) => jobListItem(row, row.result_summary)));
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
    query: JobReadQuery,
    headers: JobReadHeaders,
    responses: {
      200: { description: 'The job (ETag header: its validator)', schema: JobResponseSchema },
      304: { description: 'The job is as the If-None-Match ETag says (no body)' },
    },
    async handler(ctx, { params, query, principal }) {
      const { tenantId } = principal;
      let state = await service.states.read(tenantId, params.id);
      if (!state) throw new AppError('not_found', `No job ${params.id}`);
      const ifNoneMatch = ctx.get('if-none-match') || undefined;
      const wait = requestedWait(ctx.get('prefer') || undefined, query.wait);
      // Held only while the client's copy is current (or, without one, until the job changes).
      if (wait.seconds > 0 && (!ifNoneMatch || ifNoneMatchHits(ifNoneMatch, state.etag))) {
        const gone = new AbortController();
        const onClose = () => gone.abort();
        ctx.res.once('close', onClose);
        try {
          const outcome = await service.heldPolls.wait(tenantId, state, state.etag, wait.seconds * SECOND, gone.signal);
          if (outcome.held && wait.viaPrefer) ctx.set('Preference-Applied', `wait=${wait.seconds}`);
          if (!outcome.state) throw new AppError('not_found', `No job ${params.id}`);
          state = outcome.state;
        } finally {
          ctx.res.off('close', onClose);
        }
      }
      ctx.set('ETag', state.etag);
      if (ifNoneMatchHits(ifNoneMatch, state.etag)) {
        ctx.status = 304;
        return;
      }
      ctx.type = 'application/json';
      ctx.body = state.json;
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
      const body = await service.read(tenantId, params.id);
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
      const exists = await service.read(tenantId, params.id);
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
