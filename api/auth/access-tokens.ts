/**
 * Access tokens: RS256 JWTs carrying `sub` (user), `tenant_id`, `role`, `jti`, `sid` (the
 * session, i.e. the refresh-token family) and a `kid` header naming the signing key. Verification
 * accepts RS256 only, with a key from the key ring chosen by `kid`: `alg: none`, HS256 signed with
 * a public key, unknown keys and expired tokens are all refused.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { ROLES, type Role } from '../../shared/auth/principal.ts';
import { AppError } from '../../shared/errors.ts';
import type { KeyRing } from './signing-keys.ts';

const ALGORITHM = 'RS256';
/** Clock skew tolerated between API replicas, in seconds. */
const CLOCK_TOLERANCE_S = 5;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const CLAIMS = z.object({
  sub: z.uuid(),
  tenant_id: z.uuid(),
  role: z.enum(ROLES),
  jti: z.string().min(1).max(64),
  sid: z.uuid(),
  iat: z.number(),
  exp: z.number(),
  iss: z.string(),
});

/** The verified claims of an access token. */
export type AccessClaims = z.infer<typeof CLAIMS>;

export interface IssuedAccessToken {
  token: string;
  jti: string;
  /** Expiry in seconds since the epoch (the `exp` claim). */
  expiresAt: number;
}

export interface AccessTokenOptions {
  issuer: string;
  ttlMs: number;
}

/** True when a bearer token has the shape of a JWT (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

function invalid(detail: string): AppError {
  return new AppError('invalid_token', detail, {
    headers: { 'WWW-Authenticate': `Bearer realm="catalytic", error="invalid_token", error_description="${detail.replace(/["\\]/g, '')}"` },
  });
}

export class AccessTokens {
  constructor(
    private readonly keys: KeyRing,
    private readonly options: AccessTokenOptions,
  ) {}

  /** Lifetime of a new token, in seconds. */
  get ttlSeconds(): number {
    return Math.floor(this.options.ttlMs / 1000);
  }

  issue(subject: { userId: string; tenantId: string; role: Role; sessionId: string }): IssuedAccessToken {
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = now + this.ttlSeconds;
    const token = jwt.sign(
      { tenant_id: subject.tenantId, role: subject.role, sid: subject.sessionId, iat: now, exp: expiresAt },
      this.keys.signing.privateKey,
      { algorithm: ALGORITHM, keyid: this.keys.signing.kid, issuer: this.options.issuer, subject: subject.userId, jwtid: jti },
    );
    return { token, jti, expiresAt };
  }

  /** Verifies signature, algorithm, key, issuer, expiry and claim shapes; throws 401 otherwise. */
  verify(token: string): AccessClaims {
    let decoded: jwt.Jwt | null;
    try {
      decoded = jwt.decode(token, { complete: true });
    } catch {
      // A header or payload that is base64url but not JSON: jsonwebtoken's decode throws.
      decoded = null;
    }
    if (!decoded || typeof decoded.payload === 'string') throw invalid('The access token is malformed');
    if (decoded.header.alg !== ALGORITHM) throw invalid('The access token must be signed with RS256');
    const kid = decoded.header.kid;
    const key = kid ? this.keys.verification.get(kid) : undefined;
    if (!key) throw invalid('The access token was signed with an unknown key');
    let payload: unknown;
    try {
      payload = jwt.verify(token, key, {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        clockTolerance: CLOCK_TOLERANCE_S,
      });
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) throw invalid('The access token has expired');
      throw invalid(`The access token is not valid (${(err as Error).message})`);
    }
    const claims = CLAIMS.safeParse(payload);
    if (!claims.success) throw invalid('The access token lacks required claims');
    return claims.data;
  }
}
