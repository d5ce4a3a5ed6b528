/**
 * Authentication: `Authorization: Bearer <token>` where the token is an API key (`ck_…`) or an
 * access token. On success `ctx.state.principal` is set; failures are 401 problem+json.
 */
import { hashApiKey, looksLikeApiKey } from '../../shared/auth/api-key-format.ts';
import { apiKeyRights, type Principal, type Role, ROLE_SCOPES, type Scope } from '../../shared/auth/principal.ts';
import { readAsTenant, sql, withTenant } from '../../shared/db.ts';
import { AppError, isAppError } from '../../shared/errors.ts';
import { MINUTE } from '../../shared/units.ts';
import type { ApiContext, ApiDeps } from '../state.ts';
import { looksLikeJwt } from './access-tokens.ts';

/** Verifies one kind of bearer token. Returns undefined when the token is not of its kind. */
export type TokenVerifier = (token: string, ctx: ApiContext) => Promise<Principal | undefined>;

const LAST_USED_PRECISION_MS = MINUTE;

/** An API key's row joined to its tenant and user, as the credential cache keeps it. */
export interface ApiKeyRow {
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

/** A cached API key: its row and the principal it makes (the same for every request; none once its creator is gone). */
export interface CachedApiKey {
  row: ApiKeyRow;
  principal: Principal | undefined;
}

/** The principal a key makes, computed from its creator's current role; undefined when that user is gone. */
function apiKeyPrincipal(row: ApiKeyRow): Principal | undefined {
  const rights = apiKeyRights(row.scopes, row.role);
  if (!rights) return undefined;
  return {
    kind: 'api_key',
    tenantId: row.tenant_id,
    userId: row.user_id,
    apiKeyId: row.id,
    role: rights.role,
    scopes: rights.scopes,
    planCode: row.plan_code,
  };
}

/**
 * API keys (`ck_…`). The key's row (with its tenant's plan and status and its creator's current
 * role) comes from the credential cache (principal-cache.ts) or PostgreSQL; revocation, expiry
 * and the tenant's status are checked on every request against it. A key's effective scopes are
 * its own scopes within what its creator's role allows now.
 */
export function apiKeyVerifier({ runtime, identity }: ApiDeps): TokenVerifier {
  const load = async (hash: string): Promise<CachedApiKey | undefined> => {
    // The tenant is what the key tells: read through its definer function (no tenant is set yet).
    const { rows } = await runtime.db.raw<{ rows: ApiKeyRow[] }>(
      `select id, tenant_id, user_id, scopes, expires_at, revoked_at, last_used_at, plan_code, tenant_status, role
         from catalytic_api_key_by_hash(?)`,
      [hash],
    );
    const row = rows[0];
    return row ? { row, principal: apiKeyPrincipal(row) } : undefined;
  };
  const tagsOf = ({ row }: CachedApiKey) => ({ tenantId: row.tenant_id, userId: row.user_id, apiKeyId: row.id });
  return async (token) => {
    if (!looksLikeApiKey(token)) return undefined;
    const hash = hashApiKey(token);
    const found = await identity.credentials.apiKeys.get(hash, () => load(hash), tagsOf);
    const row = found?.row;
    if (!found?.principal || !row || row.revoked_at || (row.expires_at && row.expires_at.getTime() <= Date.now())) {
      throw new AppError('invalid_token', 'The API key is not valid');
    }
    if (row.tenant_status !== 'active') throw new AppError('forbidden', 'The tenant is suspended');
    // `last_used_at` is for people reading the key list: a minute's precision is plenty, and it
    // saves a durable write on nearly every request. The cached row remembers the write.
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > LAST_USED_PRECISION_MS) {
      row.last_used_at = new Date();
      void withTenant(runtime.db, row.tenant_id, (trx) => trx('api_keys').where({ id: row.id }).update({ last_used_at: trx.fn.now() })).catch(
        () => undefined,
      );
    }
    return found.principal;
  };
}

/** An access token's user and tenant, as the credential cache keeps them. */
export interface TokenUserRow {
  user_id: string;
  tenant_id: string;
  role: Role;
  plan_code: string;
  tenant_status: string;
}

/**
 * Access tokens (RS256 JWTs from /auth/login). Besides the signature, each request checks that
 * the token was not revoked (sign-out, a reused refresh token: Redis, never cached) and reads the
 * user's current role and the tenant's current plan and status (through the credential cache, so
 * changes made through the API apply at once, and others within its TTL).
 */
export function accessTokenVerifier({ runtime, identity }: ApiDeps): TokenVerifier {
  // The token names its tenant (signed by us): the read runs as that tenant.
  const load = async (userId: string, tenantId: string): Promise<TokenUserRow | undefined> => {
    const rows = await readAsTenant<TokenUserRow>(
      runtime.db,
      tenantId,
      sql`select u.id as user_id, u.tenant_id, u.role, t.plan_code, t.status as tenant_status
            from users u join tenants t on t.id = u.tenant_id
           where u.id = ${userId} and u.tenant_id = ${tenantId}`,
    );
    return rows[0];
  };
  const tagsOf = (row: TokenUserRow) => ({ tenantId: row.tenant_id, userId: row.user_id, apiKeyId: null });
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
      identity.credentials.users.get(`${claims.sub}|${claims.tenant_id}`, () => load(claims.sub, claims.tenant_id), tagsOf),
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
      return principal;
    }
  }
  throw new AppError('invalid_token', 'The bearer token is not valid', {
    headers: { 'WWW-Authenticate': 'Bearer realm="catalytic", error="invalid_token"' },
  });
}
