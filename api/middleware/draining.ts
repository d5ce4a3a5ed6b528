/** While the server drains for shutdown, new requests get 503 and `Connection: close`. */
import { AppError } from '../../shared/errors.ts';
import type { ApiMiddleware } from '../state.ts';

export interface DrainSwitch {
  draining: boolean;
}

export function rejectWhileDraining(drain: DrainSwitch): ApiMiddleware {
  return async (ctx, next) => {
    if (drain.draining) {
      ctx.set('Connection', 'close');
      throw new AppError('service_unavailable', 'The server is shutting down', { headers: { 'Retry-After': '1' } });
    }
    await next();
  };
}
