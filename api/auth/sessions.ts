/**
 * Sessions: a sign-in starts a family of refresh tokens; each refresh spends the presented token
 * and issues the next one of the family with a new access token. Presenting a token that was
 * already spent means it was copied: the whole family is revoked (in PostgreSQL) and so are the
 * family's access tokens (in Redis, by `sid`), and the answer is 401.
 *
 * Refresh tokens are opaque (`crt_` + 256 random bits) and stored as SHA-256 hashes: they are long
 * and random, so a fast hash is enough, and a database leak does not leak usable tokens.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Principal, Role } from '../../shared/auth/principal.ts';
import { recordAudit } from '../../shared/audit.ts';
import { type Db, withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { RequestMeta } from './request-meta.ts';
import type { TokenRevocations } from './revocations.ts';

const REFRESH_TOKEN_PATTERN = /^crt_[A-Za-z0-9_-]{43}$/;

/** What sign-in, sign-up and refresh answer (OAuth 2.0 token response members). */
export interface TokenPair {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds until the access token expires. */
  expires_in: number;
  refresh_token: string;
  /** Seconds until the refresh token expires. */
  refresh_expires_in: number;
}

/** The user a session is for. */
export interface SessionUser {
  id: string;
  tenant_id: string;
  role: Role;
}

function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function invalidRefresh(detail: string): AppError {
  return new AppError('invalid_token', detail);
}

interface RefreshRow {
  id: string;
  tenant_id: string;
  user_id: string;
  family_id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

type RefreshOutcome = { kind: 'rotated'; pair: TokenPair } | { kind: 'reused'; familyId: string };

export class Sessions {
  constructor(
    private readonly db: Db,
    private readonly tokens: AccessTokens,
    private readonly revocations: TokenRevocations,
    private readonly refreshTtlMs: number,
  ) {}

  /**
   * Issues an access token and the next refresh token of `familyId` (a new family when absent).
   * Pass the transaction of the sign-up or refresh so the token exists only if it commits.
   */
  async issue(db: Knex | Knex.Transaction, user: SessionUser, familyId: string = randomUUID()): Promise<TokenPair> {
    const refreshToken = `crt_${randomBytes(32).toString('base64url')}`;
    await db('refresh_tokens').insert({
      tenant_id: user.tenant_id,
      user_id: user.id,
      family_id: familyId,
      token_hash: hashRefreshToken(refreshToken),
      expires_at: new Date(Date.now() + this.refreshTtlMs),
    });
    const access = this.tokens.issue({ userId: user.id, tenantId: user.tenant_id, role: user.role, sessionId: familyId });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: this.tokens.ttlSeconds,
      refresh_token: refreshToken,
      refresh_expires_in: Math.floor(this.refreshTtlMs / 1000),
    };
  }

  /** Spends a refresh token for a new pair; a reused token revokes its family and throws 401. */
  async refresh(refreshToken: string, meta: RequestMeta): Promise<TokenPair> {
    if (!REFRESH_TOKEN_PATTERN.test(refreshToken)) throw invalidRefresh('The refresh token is not valid');
    const hash = hashRefreshToken(refreshToken);
    // The tenant is known only once the token is found: its definer function tells it, and the
    // rest runs as that tenant (every statement below names the tenant as well).
    const { rows } = await this.db.raw<{ rows: Array<{ tenant_id: string | null }> }>('select catalytic_refresh_token_tenant(?) as tenant_id', [hash]);
    const tenantId = rows[0]?.tenant_id;
    if (!tenantId) throw invalidRefresh('The refresh token is not valid');
    const outcome = await withTenant(this.db, tenantId, async (trx): Promise<RefreshOutcome> => {
      const row = await trx('refresh_tokens').where({ token_hash: hash }).forUpdate().first<RefreshRow | undefined>();
      if (!row || row.revoked_at) throw invalidRefresh('The refresh token is not valid');
      if (row.used_at) {
        await trx('refresh_tokens')
          .where({ family_id: row.family_id, tenant_id: row.tenant_id })
          .whereNull('revoked_at')
          .update({ revoked_at: trx.fn.now() });
        await recordAudit(trx, {
          tenantId: row.tenant_id,
          userId: row.user_id,
          action: 'auth.refresh_reused',
          ...meta,
          details: { session_id: row.family_id },
        });
        return { kind: 'reused', familyId: row.family_id };
      }
      if (row.expires_at.getTime() <= Date.now()) throw invalidRefresh('The refresh token has expired');
      const user = await trx('users as u')
        .join('tenants as t', 't.id', 'u.tenant_id')
        .where({ 'u.id': row.user_id, 'u.tenant_id': row.tenant_id })
        .first<{ id: string; tenant_id: string; role: Role; tenant_status: string } | undefined>(
          'u.id',
          'u.tenant_id',
          'u.role',
          't.status as tenant_status',
        );
      if (!user) throw invalidRefresh('The refresh token is not valid');
      if (user.tenant_status !== 'active') throw new AppError('forbidden', 'The tenant is suspended');
      await trx('refresh_tokens').where({ id: row.id, tenant_id: row.tenant_id }).update({ used_at: trx.fn.now() });
      return { kind: 'rotated', pair: await this.issue(trx, user, row.family_id) };
    });
    if (outcome.kind === 'rotated') return outcome.pair;
    // Committed above; now also cut the access tokens of the family, which may be a thief's.
    await this.revocations.revokeSession(outcome.familyId, this.tokens.ttlSeconds * 1000);
    throw invalidRefresh('The refresh token was already used: the session has been revoked, sign in again');
  }

  /**
   * Ends every session of a user (a password reset or change, a removed member): each refresh
   * token is revoked in the transaction given, and — once it commits — the sessions' access
   * tokens in Redis. Returns the function that revokes them in Redis, to call after the commit.
   */
  async endAllOf(trx: Knex.Transaction, tenantId: string, userId: string): Promise<() => Promise<void>> {
    const families = await trx('refresh_tokens')
      .where({ tenant_id: tenantId, user_id: userId })
      .where('expires_at', '>', trx.fn.now())
      .distinct<Array<{ family_id: string }>>('family_id');
    await trx('refresh_tokens').where({ tenant_id: tenantId, user_id: userId }).whereNull('revoked_at').update({ revoked_at: trx.fn.now() });
    const ttlMs = this.tokens.ttlSeconds * 1000;
    return async () => {
      await Promise.all(families.map((f) => this.revocations.revokeSession(f.family_id, ttlMs)));
    };
  }

  /**
   * Signs out: the access token stops working at once (its `jti` is revoked in Redis until it
   * would expire) and so does the session's refresh token.
   */
  async end(principal: Principal, meta: RequestMeta): Promise<void> {
    if (principal.tokenId && principal.tokenExpiresAt) {
      await this.revocations.revokeToken(principal.tokenId, principal.tokenExpiresAt);
    }
    if (!principal.sessionId) return;
    await this.revocations.revokeSession(principal.sessionId, this.tokens.ttlSeconds * 1000);
    await withTenant(this.db, principal.tenantId, async (trx) => {
      await trx('refresh_tokens')
        .where({ family_id: principal.sessionId, tenant_id: principal.tenantId })
        .whereNull('revoked_at')
        .update({ revoked_at: trx.fn.now() });
      await recordAudit(trx, {
        tenantId: principal.tenantId,
        userId: principal.userId,
        action: 'auth.signed_out',
        ...meta,
        details: { session_id: principal.sessionId },
      });
    });
  }
}
