/**
 * Operator authentication for the admin surface (bull-board). Platform operators are not tenant
 * users: they sign in with `ADMIN_USER`/`ADMIN_PASSWORD` (HTTP basic auth, so a browser prompts)
 * or send `Authorization: Bearer $ADMIN_TOKEN`. Tenant API keys and access tokens are never
 * accepted here. Secrets are compared in constant time, and repeated wrong credentials lock the
 * client address out for a while.
 */
import type { Config } from '../../shared/config.ts';
import { AppError } from '../../shared/errors.ts';
import { safeEqual } from '../../shared/safe-equal.ts';
import type { ApiContext } from '../state.ts';
import type { OperatorLockout } from './operator-lockout.ts';

export const OPERATOR_REALM = 'catalytic-operators';

/** True when some operator credential is configured; without one the admin surface does not exist. */
export function operatorAccessConfigured(config: Config): boolean {
  return Boolean((config.ADMIN_USER && config.ADMIN_PASSWORD) || config.ADMIN_TOKEN);
}

function basicCredentials(header: string): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Which operator credential the request carries and whether it is right. */
export function checkOperator(config: Config, authorization: string): boolean {
  const basic = basicCredentials(authorization);
  if (basic && config.ADMIN_USER && config.ADMIN_PASSWORD) {
    // Both compared, always: the time taken does not say which one was wrong.
    const userOk = safeEqual(basic.user, config.ADMIN_USER);
    const passwordOk = safeEqual(basic.password, config.ADMIN_PASSWORD);
    return userOk && passwordOk;
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
  if (bearer && config.ADMIN_TOKEN) return safeEqual(bearer, config.ADMIN_TOKEN);
  return false;
}

/**
 * Throws 401 (with a basic-auth challenge when a password is configured) unless the request
 * carries operator credentials; wrong credentials count towards the address's lockout.
 */
export async function requireOperator(ctx: ApiContext, config: Config, lockout: OperatorLockout): Promise<void> {
  const address = ctx.ip || 'unknown';
  await lockout.assertAllowed(address);
  const authorization = ctx.get('authorization');
  if (checkOperator(config, authorization)) return;
  if (authorization) await lockout.recordFailure(address);
  const challenges = [
    ...(config.ADMIN_USER ? [`Basic realm="${OPERATOR_REALM}", charset="UTF-8"`] : []),
    ...(config.ADMIN_TOKEN ? [`Bearer realm="${OPERATOR_REALM}"`] : []),
  ];
  throw new AppError('unauthorized', 'Operator credentials are required', {
    headers: { 'WWW-Authenticate': challenges.join(', ') },
  });
}
