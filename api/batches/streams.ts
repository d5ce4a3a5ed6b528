/**
 * The two streams of a batch: `GET /api/batches/:id/events` (server-sent `counts` events whenever
 * the counts change, until every job is final) and `GET /api/batches/:id/results` (NDJSON, one
 * job summary a line, in request order, read a page at a time so memory stays bounded whatever
 * the batch's size, and paced by the client: the next page is read once the last one drained).
 */
import type { Server } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import type { Db } from '../../shared/db.ts';
import { withTenant } from '../../shared/db.ts';
import { jobSummary } from '../../shared/jobs/job-body.ts';
import { SECOND } from '../../shared/units.ts';
import { jobLinks } from '../jobs/responses.ts';
import type { ApiRouterContext } from '../state.ts';
import { batchResponse } from './responses.ts';
import { batchResultPage, findBatch, tallyBatch } from './store.ts';

/** How often an event stream re-reads the counts. */
const POLL_MS = SECOND / 2;
const KEEPALIVE_MS = 15 * SECOND;
/** Jobs read per query of the results stream. */
const RESULT_PAGE = 200;

function openEventStream(ctx: ApiRouterContext): PassThrough {
  const stream = new PassThrough();
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.set('Cache-Control', 'no-cache, no-transform');
  ctx.set('X-Accel-Buffering', 'no');
  ctx.type = 'text/event-stream';
  ctx.status = 200;
  ctx.body = stream;
  return stream;
}

/** Streams the batch's counts; the caller has checked the batch exists. Ends after `completed`. */
export function streamBatchEvents(ctx: ApiRouterContext, db: Db, tenantId: string, batchId: string): void {
  const stream = openEventStream(ctx);
  let last = '';
  let ended = false;
  let busy = false;
  const timers: NodeJS.Timeout[] = [];
  const end = (): void => {
    if (ended) return;
    ended = true;
    for (const timer of timers) clearInterval(timer);
    stream.end();
  };
  const refresh = async (): Promise<void> => {
    if (busy || ended) return;
    busy = true;
    try {
      const body = await withTenant(db, tenantId, async (trx) => {
        const batch = await findBatch(trx, tenantId, batchId);
        return batch && batchResponse(batch, await tallyBatch(trx, tenantId, batchId));
      });
      if (ended) return;
      if (!body) return end();
      const text = JSON.stringify(body);
      if (text !== last) {
        last = text;
        stream.write(`event: counts\ndata: ${text}\n\n`);
      }
      if (body.status === 'completed') end();
    } catch {
      // A failed read is retried by the next poll.
    } finally {
      busy = false;
    }
  };
  ctx.res.once('close', end);
  stream.write('retry: 1000\n\n');
  void refresh();
  timers.push(
    setInterval(() => {
      const server = (ctx.req.socket as { server?: Server }).server;
      if (server && !server.listening) return end();
      void refresh();
    }, POLL_MS),
    setInterval(() => {
      if (!ended) stream.write(': keep-alive\n\n');
    }, KEEPALIVE_MS),
  );
}

/** Streams the batch's job summaries as NDJSON; the caller has checked the batch exists. */
export function streamBatchResults(ctx: ApiRouterContext, db: Db, tenantId: string, batchId: string): void {
  async function* lines(): AsyncGenerator<string> {
    let after = -1;
    for (;;) {
      const rows = await withTenant(db, tenantId, (trx) => batchResultPage(trx, tenantId, batchId, after, RESULT_PAGE));
      if (rows.length === 0) return;
      let text = '';
      for (const row of rows) text += `${JSON.stringify({ index: row.batch_index, ...jobSummary(row, row.result_summary), links: jobLinks(row.id) })}\n`;
      yield text;
      after = rows[rows.length - 1]?.batch_index ?? after;
      if (rows.length < RESULT_PAGE) return;
    }
  }
  ctx.type = 'application/x-ndjson';
  ctx.status = 200;
  ctx.body = Readable.from(lines(), { objectMode: false, highWaterMark: 1 });
}
