/**
 * Authentication: `Authorization: Bearer <token>` where the token is an API key (`ck_…`) or an
 * access token. On success `ctx.state.principal` is set; failures are 401 problem+json.
 */
import { hashApiKey, looksLikeApiKey } from '../../shared/auth/api-key-format.ts';
import { type Principal, type Role, ROLE_SCOPES, type Scope } from '../../shared/auth/principal.ts';
import { addLogContext } from '../../shared/context.ts';
import { AppError, isAppError } from '../../shared/errors.ts';
import { MINUTE } from '../../shared/units.ts';
import type { ApiContext, ApiDeps } from '../state.ts';
import { looksLikeJwt } from './access-tokens.ts';

/** Verifies one kind of bearer token. Returns undefined when the token is not of its kind. */
export type TokenVerifier = (token: string, ctx: ApiContext) => Promise<Principal | undefined>;

const LAST_USED_PRECISION_MS = MINUTE;

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  user_id: string | null;
  scopes: Scope[];
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  plan_code: string;
  tenant_status: string;
  role: Role | null;
}

export function apiKeyVerifier({ runtime }: ApiDeps): TokenVerifier {
  return async (token) => {
    if (!looksLikeApiKey(token)) return undefined;
    const row = (await runtime
      .db('api_keys as k')
      .join('tenants as t', 't.id', 'k.tenant_id')
      .leftJoin('users as u', 'u.id', 'k.user_id')
      .where('k.key_hash', hashApiKey(token))
      .first(
        'k.id',
        'k.tenant_id',
        'k.user_id',
        'k.scopes',
        'k.expires_at',
        'k.revoked_at',
        'k.last_used_at',
        't.plan_code',
        't.status as tenant_status',
        'u.role',
      )) as ApiKeyRow | undefined;
    if (!row || row.revoked_at || (row.expires_at && row.expires_at.getTime() <= Date.now())) {
      throw new AppError('invalid_token', 'The API key is not valid');
    }
    if (row.tenant_status !== 'active') throw new AppError('forbidden', 'The tenant is suspended');
    // `last_used_at` is for people reading the key list: a minute's precision is plenty, and it
    // saves a durable write on nearly every request.
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > LAST_USED_PRECISION_MS) {
      void runtime.db('api_keys').where({ id: row.id }).update({ last_used_at: runtime.db.fn.now() }).catch(() => undefined);
    }
    return {
      kind: 'api_key',
      tenantId: row.tenant_id,
      userId: row.user_id,
      apiKeyId: row.id,
      // A key acts with at most a member's rights; its scopes narrow them further.
      role: row.role === 'viewer' ? 'viewer' : 'member',
      scopes: new Set(row.scopes),
      planCode: row.plan_code,
    };
  };
}

interface TokenUserRow {
  role: Role;
  plan_code: string;
  tenant_status: string;
}

/**
 * Access tokens (RS256 JWTs from /auth/login). Besides the signature, each request checks that
 * the token was not revoked (sign-out, a reused refresh token) and reads the user's current role
 * and the tenant's current plan, so demotions, deletions and plan changes apply at once.
 */
export function accessTokenVerifier({ runtime, identity }: ApiDeps): TokenVerifier {
  return async (token) => {
    if (!looksLikeJwt(token)) return undefined;
    const claims = identity.tokens.verify(token);
    const [revoked, row] = await Promise.all([
      identity.revocations.isRevoked(claims.jti, claims.sid).catch((err: unknown) => {
        // Fail closed: a token that may have been revoked is not accepted.
        throw new AppError('service_unavailable', 'Credentials cannot be checked right now', {
          cause: err,
          headers: { 'Retry-After': '1' },
        });
      }),
      runtime
        .db('users as u')
        .join('tenants as t', 't.id', 'u.tenant_id')
        .where({ 'u.id': claims.sub, 'u.tenant_id': claims.tenant_id })
        .first<TokenUserRow | undefined>('u.role', 't.plan_code', 't.status as tenant_status'),
    ]);
    if (revoked) throw new AppError('invalid_token', 'The access token has been revoked');
    if (!row) throw new AppError('invalid_token', 'The user of this access token no longer exists');
    if (row.tenant_status !== 'active') throw new AppError('forbidden', 'The tenant is suspended');
    return {
      kind: 'user',
      tenantId: claims.tenant_id,
      userId: claims.sub,
      apiKeyId: null,
      role: row.role,
      scopes: new Set(ROLE_SCOPES[row.role]),
      planCode: row.plan_code,
      tokenId: claims.jti,
      tokenExpiresAt: claims.exp,
      sessionId: claims.sid,
    };
  };
}

/** Every 401 names the scheme to use (RFC 6750 §3). */
function withChallenge(err: unknown): unknown {
  if (!isAppError(err) || err.status !== 401 || err.headers['WWW-Authenticate']) return err;
  return new AppError(err.code, err.message, {
    extra: err.extra,
    headers: { ...err.headers, 'WWW-Authenticate': 'Bearer realm="catalytic", error="invalid_token"' },
    cause: err.cause,
  });
}

/** Reads the bearer token and asks each verifier in turn; the first that recognises it decides. */
export async function authenticate(ctx: ApiContext, verifiers: readonly TokenVerifier[]): Promise<Principal> {
  if (ctx.state.principal) return ctx.state.principal;
  const header = ctx.get('authorization');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) {
    throw new AppError('unauthorized', 'Send `Authorization: Bearer <access token or API key>`', {
      headers: { 'WWW-Authenticate': 'Bearer realm="catalytic"' },
    });
  }
  for (const verify of verifiers) {
    let principal: Principal | undefined;
    try {
      principal = await verify(match[1], ctx);
    } catch (err) {
      throw withChallenge(err);
    }
    if (principal) {
      ctx.state.principal = principal;
      addLogContext({ tenantId: principal.tenantId, userId: principal.userId ?? undefined });
      return principal;
    }
  }
  throw new AppError('invalid_token', 'The bearer token is not valid', {
    headers: { 'WWW-Authenticate': 'Bearer realm="catalytic", error="invalid_token"' },
  });
}
