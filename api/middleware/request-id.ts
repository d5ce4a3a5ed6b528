/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new one), echoes
 * it in the response and binds it to the log context for everything the request does.
 */
import { randomUUID } from 'node:crypto';
import { withLogContext } from '../../shared/context.ts';
import type { ApiMiddleware } from '../state.ts';

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(): ApiMiddleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const id = SANE_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await withLogContext({ requestId: id }, next);
  };
}
