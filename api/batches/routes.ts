/**
 * Batches (docs/http-api.md › Batches): `POST /api/batches` (202, `Idempotency-Key`, all or
 * nothing), `GET /api/batches` (cursor), `GET /api/batches/:id` (counts), `DELETE /api/batches/:id`
 * (cancel every unfinished job), `GET /api/batches/:id/events` (server-sent counts) and
 * `GET /api/batches/:id/results` (NDJSON). Another tenant's batch is a 404, like a missing one.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { listCursorParam } from '../../shared/list-cursor.ts';
import { BatchCreatedSchema, BatchListQuery, BatchListSchema, BatchResultLineSchema, BatchSchema, SubmitBatchBody } from '../../shared/wire/batches.ts';
import { IdempotencyHeaders, IdParams } from '../../shared/wire/jobs.ts';
import { boundObstacleList } from '../jobs/obstacle-list-bound.ts';
import { idempotencyKeyOf } from '../jobs/responses.ts';
import { listPage } from '../list-page.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';
import { boundBatchItemLists } from './item-list-bounds.ts';
import { batchResponse, batchSummary } from './responses.ts';
import { findBatch, listBatches, tallyBatch } from './store.ts';
import { streamBatchEvents, streamBatchResults } from './streams.ts';

const TAGS = ['Batches'];
const READ = { scopes: ['jobs:read'] } as const;
const WRITE = { scopes: ['jobs:write'] } as const;

export function batchRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;
  const boundObstacles = boundObstacleList(deps.identity.plans, ['lattice']);
  const boundItemLists = boundBatchItemLists(deps.identity.plans);

  /** The batch with its counts, or 404. */
  const readBatch = (tenantId: string, id: string) =>
    withTenant(db, tenantId, async (trx) => {
      const batch = await findBatch(trx, tenantId, id);
      if (!batch) throw new AppError('not_found', `No batch ${id}`);
      return batchResponse(batch, await tallyBatch(trx, tenantId, id));
    });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/batches',
    summary: 'Submit up to 1,000 jobs at once, all or nothing, with an optional shared lattice and defaults',
    tags: TAGS,
    auth: WRITE,
    body: SubmitBatchBody,
    checkRawBody: [boundObstacles, boundItemLists],
    headers: IdempotencyHeaders,
    responses: {
      202: { description: 'Accepted and queued (or the batch an earlier request with the same Idempotency-Key made)', schema: BatchCreatedSchema },
      402: { description: 'The shared lattice is larger than the plan allows' },
      409: { description: 'The Idempotency-Key was used with a different request' },
      422: { description: 'Some jobs were refused (batch_invalid: `errors[]` by index); nothing was written' },
      429: { description: "The month's jobs or compute units cannot hold the whole batch" },
      503: {
        description:
          'PostgreSQL or Redis is unreachable or overloaded (no database connection to be had; `Retry-After` says when to retry); the batch is written whole or not at all, and a retry with the same Idempotency-Key makes it exactly once',
      },
    },
    async handler(ctx, { body, principal }) {
      const { batch, jobIds, replayed, tally } = await deps.batches.submit(principal, body, idempotencyKeyOf(ctx));
      // A batch just written is answered from the write: nothing after its commit can fail it.
      const counted = tally ? batchResponse(batch, tally) : await readBatch(principal.tenantId, batch.id);
      ctx.status = 202;
      ctx.set('Location', `/api/batches/${batch.id}`);
      if (replayed) ctx.set('Idempotent-Replayed', 'true');
      ctx.body = { ...counted, job_ids: jobIds };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/batches',
    summary: 'List batches, newest first',
    tags: TAGS,
    auth: READ,
    query: BatchListQuery,
    responses: { 200: { description: 'A page of batches', schema: BatchListSchema } },
    async handler(ctx, { query, principal }) {
      const { tenantId } = principal;
      const page = await withTenant(db, tenantId, (trx) => listBatches(trx, tenantId, { after: listCursorParam(query.cursor), limit: query.limit }));
      ctx.body = listPage(page.rows, page.next, batchSummary);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/batches/:id',
    summary: 'Get a batch: its jobs counted by status, progress, first and last finish',
    tags: TAGS,
    auth: READ,
    params: IdParams,
    responses: { 200: { description: 'The batch', schema: BatchSchema } },
    async handler(ctx, { params, principal }) {
      ctx.body = await readBatch(principal.tenantId, params.id);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'delete',
    path: '/api/batches/:id',
    summary: 'Cancel every unfinished job of a batch: queued ones never run, running ones stop within a second',
    tags: TAGS,
    auth: WRITE,
    params: IdParams,
    responses: { 200: { description: 'The batch after the cancel (running jobs may still be stopping)', schema: BatchSchema } },
    async handler(ctx, { params, principal }) {
      await deps.batches.cancel(principal.tenantId, params.id);
      ctx.body = await readBatch(principal.tenantId, params.id);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/batches/:id/events',
    summary: "Follow a batch's counts as server-sent events until every job is final",
    tags: TAGS,
    auth: READ,
    params: IdParams,
    responses: {
      200: { description: '`event: counts` (the batch) on connect and whenever it changes; ends once the batch is completed', schema: z.string(), contentType: 'text/event-stream' },
    },
    async handler(ctx, { params, principal }) {
      await readBatch(principal.tenantId, params.id);
      streamBatchEvents(ctx, db, principal.tenantId, params.id);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/batches/:id/results',
    summary: "Stream every job's summary (status, error, result_summary) as NDJSON, in the order submitted",
    tags: TAGS,
    auth: READ,
    params: IdParams,
    responses: {
      200: {
        description: 'One JSON line per job, in the order submitted: each line is a `BatchResultLine` (the schema here is that of one line)',
        schema: BatchResultLineSchema,
        contentType: 'application/x-ndjson',
      },
    },
    async handler(ctx, { params, principal }) {
      await readBatch(principal.tenantId, params.id);
      streamBatchResults(ctx, db, principal.tenantId, params.id);
    },
  });

  return router;
}
