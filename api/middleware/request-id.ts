/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new one), echoes
 * it in the response and keeps it in `ctx.state`, where the access log and the error log read it.
 * It is not carried through async calls: an AsyncLocalStorage entered once turns on promise hooks
 * for every promise of the process on Node 20, which cost each request more than its log lines
 * gain (docs/performance.md › The API without AsyncLocalStorage).
 */
import { randomUUID } from 'node:crypto';
import type { ApiContext, ApiMiddleware } from '../state.ts';

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(): ApiMiddleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const id = SANE_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await next();
  };
}

/** What a request's log lines name: its id, and its tenant and user once authenticated. */
export function requestFacts(ctx: ApiContext): { requestId: string; tenantId?: string; userId?: string } {
  const { requestId: id, principal } = ctx.state;
  return { requestId: id, ...(principal ? { tenantId: principal.tenantId, ...(principal.userId ? { userId: principal.userId } : {}) } : {}) };
}
