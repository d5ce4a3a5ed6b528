/**
 * Credentials an attacker would try: unsigned (`alg: none`) and HS256-with-the-public-key JWTs,
 * tampered claims under a real signature, expired and wrong-issuer tokens signed with the real
 * key, unknown `kid`s, random and malformed API keys. None may authenticate.
 */
import { createHmac, createPrivateKey, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';

const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function hs256(header: object, payload: object, secret: string | Buffer): string {
  const signing = `${b64url(header)}.${b64url(payload)}`;
  return `${signing}.${createHmac('sha256', secret).update(signing).digest('base64url')}`;
}

export interface RealSession {
  /** A valid access token issued by the API (its claims are reused). */
  accessToken: string;
  /** The API's signing key (tests set JWT_PRIVATE_KEY, so they hold it). */
  privateKeyPem: string;
  /** The key's `kid` and public JWK, as /auth/jwks publishes them. */
  kid: string;
  publicPem: string;
  publicJwkN: string;
}

/** A named forged `Authorization` value. */
export interface ForgedCredential {
  name: string;
  authorization: string;
}

export function forgedCredentials(session: RealSession): ForgedCredential[] {
  const [realHeader, realPayload, realSignature] = session.accessToken.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(realPayload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const header = JSON.parse(Buffer.from(realHeader, 'base64url').toString('utf8')) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  const key: KeyObject = createPrivateKey(session.privateKeyPem);
  const signReal = (payload: object, options: jwt.SignOptions = {}) =>
    jwt.sign(payload, key, { algorithm: 'RS256', keyid: session.kid, ...options });
  const otherTenant = { ...claims, tenant_id: randomUUID(), sub: randomUUID() };
  const bearer = (token: string) => `Bearer ${token}`;

  const forged: Array<[string, string]> = [
    ['jwt alg none', bearer(`${b64url({ alg: 'none', typ: 'JWT', kid: session.kid })}.${b64url(claims)}.`)],
    ['jwt alg NONE with signature', bearer(`${b64url({ alg: 'NONE', kid: session.kid })}.${b64url(claims)}.${realSignature}`)],
    ['jwt hs256 with public pem', bearer(hs256({ alg: 'HS256', typ: 'JWT', kid: session.kid }, claims, session.publicPem))],
    ['jwt hs256 with jwks n', bearer(hs256({ alg: 'HS256', typ: 'JWT', kid: session.kid }, claims, session.publicJwkN))],
    ['jwt tampered payload', bearer(`${realHeader}.${b64url(otherTenant)}.${realSignature}`)],
    ['jwt tampered role', bearer(`${realHeader}.${b64url({ ...claims, role: 'owner', exp: now + 99_999 })}.${realSignature}`)],
    ['jwt signature stripped', bearer(`${realHeader}.${realPayload}.`)],
    ['jwt signature flipped', bearer(`${realHeader}.${realPayload}.${realSignature.slice(0, -4)}AAAA`)],
    ['jwt expired', bearer(signReal({ ...claims, iat: now - 7200, exp: now - 3600 }))],
    ['jwt wrong issuer', bearer(signReal({ ...claims, iss: 'evil', iat: now, exp: now + 600 }))],
    ['jwt unknown tenant', bearer(signReal({ ...otherTenant, iat: now, exp: now + 600 }))],
    ['jwt claims of wrong types', bearer(signReal({ ...claims, sub: { $ne: null }, tenant_id: ['x'], iat: now, exp: now + 600 }))],
    ['jwt kid traversal', bearer(`${b64url({ ...header, kid: '../../../../etc/passwd' })}.${realPayload}.${realSignature}`)],
    ['jwt kid proto', bearer(`${b64url({ ...header, kid: '__proto__' })}.${realPayload}.${realSignature}`)],
    ['jwt header not json', bearer(`${b64url('{"alg":')}.${realPayload}.${realSignature}`)],
    ['jwt payload not json', bearer(`${realHeader}.${b64url('not json')}.${realSignature}`)],
    ['jwt huge', bearer(`${realHeader}.${b64url({ ...claims, pad: 'x'.repeat(6000) })}.${realSignature}`)],
    ['random ck key', bearer(`ck_${randomBytes(4).toString('hex')}_${randomBytes(24).toString('base64url')}`)],
    ['ck key wrong shape', bearer(`ck_${'z'.repeat(40)}`)],
    ['ck key sql', bearer("ck_'or'1'='1_--")],
    ['bearer empty', 'Bearer '],
    ['bearer word only', 'Bearer'],
    ['bearer two tokens', `Bearer ${session.accessToken} ${session.accessToken}`],
    ['basic scheme', `Basic ${Buffer.from('admin:admin').toString('base64')}`],
    ['token without scheme', session.accessToken],
    ['random bytes', bearer(randomBytes(48).toString('base64'))],
    ['latin1 junk', bearer('\u00ff\u00fe\u00e9')],
  ];
  return forged.map(([name, authorization]) => ({ name, authorization }));
}
