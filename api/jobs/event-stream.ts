/**
 * `GET /api/jobs/:id/events`: server-sent events of one job (`status` on connect and on every
 * change, `progress` as it advances) until it reaches a final state, from the job's Redis channel
 * and a re-read of the row every second. See docs/architecture.md › The job body.
 */
import type { Server } from 'node:http';
import { PassThrough } from 'node:stream';
import { isFinalStatus } from '../../shared/jobs/types.ts';
import { SECOND } from '../../shared/units.ts';
import type { ApiRouterContext } from '../state.ts';
import type { JobsService } from './jobs-service.ts';

const POLL_MS = SECOND;
const KEEPALIVE_MS = 15 * SECOND;
/** Suggested reconnection delay for clients whose stream the server ended early. */
const RETRY_MS = 1000;

/** Starts the stream; the caller has checked that the job exists and belongs to the tenant. */
export async function streamJobEvents(ctx: ApiRouterContext, service: JobsService, tenantId: string, jobId: string): Promise<void> {
  const stream = new PassThrough();
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.set('Cache-Control', 'no-cache, no-transform');
  ctx.set('Connection', 'keep-alive');
  // Tells nginx-like proxies not to buffer the stream.
  ctx.set('X-Accel-Buffering', 'no');
  ctx.type = 'text/event-stream';
  ctx.status = 200;
  ctx.body = stream;

  let lastStatus: string | undefined;
  let lastProgress = -1;
  let ended = false;
  let busy = false;
  let again = false;
  const timers: NodeJS.Timeout[] = [];
  let unwatch: () => void = () => undefined;

  const send = (event: string, data: unknown): void => {
    if (!ended) stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const end = (): void => {
    if (ended) return;
    ended = true;
    for (const timer of timers) clearInterval(timer);
    unwatch();
    stream.end();
  };

  /** Reads the row and sends what changed; one read at a time, coalescing requests made meanwhile. */
  const refresh = async (): Promise<void> => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const body = await service.read(tenantId, jobId);
        if (ended) return;
        if (!body) return end();
        if (body.status !== lastStatus) {
          lastStatus = body.status;
          lastProgress = body.progress;
          send('status', body);
          if (isFinalStatus(body.status)) return end();
        } else if (body.progress > lastProgress) {
          lastProgress = body.progress;
          send('progress', { id: jobId, progress: body.progress });
        }
      } while (again);
    } catch {
      // A failed read is retried by the next poll.
    } finally {
      busy = false;
    }
  };

  ctx.res.once('close', end);
  stream.write(`retry: ${RETRY_MS}\n\n`);
  unwatch = await service.watcher.watch(jobId, (update) => {
    // Progress alone needs no read; a status change does (attempts, timings, error, result).
    if (update.status === lastStatus && !isFinalStatus(update.status)) {
      const progress = Math.round(update.progress * 10_000) / 10_000;
      if (progress > lastProgress) {
        lastProgress = progress;
        send('progress', { id: jobId, progress });
      }
      return;
    }
    void refresh();
  });
  if (ended) return unwatch();
  await refresh();
  if (ended) return;
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
