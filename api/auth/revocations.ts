/**
 * Revoked access tokens, in Redis until they would have expired anyway: a token by its `jti`
 * (sign-out), or every token of a session by its `sid` (a refresh token was reused, or the
 * session was signed out). Checking costs one round trip per request.
 */
import type { RedisClient } from '../../shared/redis.ts';

export class TokenRevocations {
  /**
   * `reads` may be the per-request connection: a check needs no order against other callers,
   * since a revocation is written, and acknowledged, before its request answers, and any check
   * sent after that sees it whatever the connection.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly reads: RedisClient = redis,
  ) {}

  private tokenKey(jti: string): string {
    return `${this.prefix}:revoked:jti:${jti}`;
  }

  private sessionKey(sid: string): string {
    return `${this.prefix}:revoked:sid:${sid}`;
  }

  /** Revokes one token until `expiresAtS` (seconds since the epoch, its `exp`). */
  async revokeToken(jti: string, expiresAtS: number): Promise<void> {
    const ttlMs = expiresAtS * 1000 - Date.now();
    if (ttlMs <= 0) return;
    await this.redis.set(this.tokenKey(jti), '1', 'PX', ttlMs);
  }

  /** Revokes every access token of a session for `ttlMs` (the access-token lifetime). */
  async revokeSession(sid: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.sessionKey(sid), '1', 'PX', ttlMs);
  }

  /** True when the token or its session was revoked. */
  async isRevoked(jti: string, sid: string | undefined): Promise<boolean> {
    // Two single-key commands rather than one multi-key EXISTS: the keys may live in different
    // Redis Cluster slots.
    const [token, session] = await Promise.all([
      this.reads.exists(this.tokenKey(jti)),
      sid ? this.reads.exists(this.sessionKey(sid)) : Promise.resolve(0),
    ]);
    return token > 0 || session > 0;
  }
}
