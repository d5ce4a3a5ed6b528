/** Where a request came from, for the audit log. */
import type { ApiContext } from '../state.ts';

export interface RequestMeta {
  /** Client address (`X-Forwarded-For` is honoured only with TRUST_PROXY). */
  ip?: string;
  userAgent?: string;
}

export function requestMeta(ctx: ApiContext): RequestMeta {
  const userAgent = ctx.get('user-agent');
  return { ip: ctx.ip || undefined, userAgent: userAgent || undefined };
}
