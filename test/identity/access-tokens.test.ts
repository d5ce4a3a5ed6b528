import { createHmac, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_KEY_FILE, loadKeyRing, rsaThumbprint } from '../../api/auth/signing-keys.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { spawnCatalytic } from '../support/processes.ts';
import { createApiKey, IDENTITY_TEST_ENV, type RegisteredTenant, registerTenant } from '../support/identity.ts';

// Three RSA keys: `previous` signed tokens before a rotation, `current` signs now, `retired` was
// dropped from the key set altogether.
function rsaPair() {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}
const previous = rsaPair();
const current = rsaPair();
const retired = rsaPair();
const dir = mkdtempSync(join(tmpdir(), 'catalytic-keys-'));
const pem = (key: KeyObject, type: 'pkcs8' | 'spki') => key.export({ format: 'pem', type }) as string;
writeFileSync(join(dir, 'current.pem'), pem(current.privateKey, 'pkcs8'), { mode: 0o600 });
writeFileSync(join(dir, 'previous-public.pem'), pem(previous.publicKey, 'spki'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = useTestEnvironment({
  ...IDENTITY_TEST_ENV,
  JWT_PRIVATE_KEY_FILE: join(dir, 'current.pem'),
  JWT_PREVIOUS_PUBLIC_KEYS_FILE: join(dir, 'previous-public.pem'),
});
const api = useTestApi(env);
let tenant: RegisteredTenant;

beforeAll(async () => {
  tenant = await registerTenant(api);
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: tenant.userId,
    tenant_id: tenant.tenantId,
    role: 'owner',
    sid: randomUUID(),
    jti: randomUUID(),
    iss: 'catalytic',
    iat: now,
    exp: now + 600,
    ...overrides,
  };
}

function sign(key: KeyObject, kid: string | undefined, payload = claims()): string {
  return jwt.sign(payload, key, { algorithm: 'RS256', ...(kid ? { keyid: kid } : {}) });
}

async function expectRejected(token: string, detail?: RegExp): Promise<void> {
  const res = await api.request('/api/me', { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="catalytic"/);
  const body = (await res.json()) as { code: string; detail: string };
  expect(body.code).toBe('invalid_token');
  if (detail) expect(body.detail).toMatch(detail);
}

describe('access tokens', () => {
  it('accepts a token the server issued, and one hand-signed with the current key', async () => {
    expect((await api.request('/api/me', { headers: tenant.headers })).status).toBe(200);
    const res = await api.request('/api/me', { headers: { authorization: `Bearer ${sign(current.privateKey, rsaThumbprint(current.publicKey))}` } });
    expect(res.status).toBe(200);
  });

  it('carries sub, tenant_id, role, jti and kid, signed RS256 for 15 minutes', () => {
    const decoded = jwt.decode(tenant.accessToken, { complete: true });
    expect(decoded?.header).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: rsaThumbprint(current.publicKey) });
    const payload = decoded?.payload as Record<string, number | string>;
    expect(payload).toMatchObject({ sub: tenant.userId, tenant_id: tenant.tenantId, role: 'owner', iss: 'catalytic' });
    expect(payload.jti).toEqual(expect.any(String));
    expect(Number(payload.exp) - Number(payload.iat)).toBe(900);
  });

  it('refuses an expired token', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    await expectRejected(sign(current.privateKey, rsaThumbprint(current.publicKey), claims({ iat: past, exp: past + 900 })), /expired/);
  });

  it('refuses a token whose signature does not match', async () => {
    // Signed with another key but naming the current key.
    await expectRejected(sign(retired.privateKey, rsaThumbprint(current.publicKey)), /not valid/);
    // A valid token whose payload was changed to another tenant.
    const [header, , signature] = tenant.accessToken.split('.');
    const forged = `${header}.${b64(claims({ tenant_id: randomUUID() }))}.${signature}`;
    await expectRejected(forged, /not valid/);
  });

  it('refuses alg: none', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT', kid: rsaThumbprint(current.publicKey) })}.${b64(claims())}.`;
    await expectRejected(token, /RS256/);
  });

  it('refuses HS256 signed with the public key as the secret', async () => {
    const header = b64({ alg: 'HS256', typ: 'JWT', kid: rsaThumbprint(current.publicKey) });
    const body = b64(claims());
    const mac = createHmac('sha256', pem(current.publicKey, 'spki')).update(`${header}.${body}`).digest('base64url');
    await expectRejected(`${header}.${body}.${mac}`, /RS256/);
  });

  it('refuses an unknown kid, a missing kid, and a key no longer in the key set', async () => {
    await expectRejected(sign(current.privateKey, 'no-such-key'), /unknown key/);
    await expectRejected(sign(current.privateKey, undefined), /unknown key/);
    await expectRejected(sign(retired.privateKey, rsaThumbprint(retired.publicKey)), /unknown key/);
  });

  it('refuses another issuer, missing claims, and a user that no longer exists', async () => {
    const kid = rsaThumbprint(current.publicKey);
    await expectRejected(sign(current.privateKey, kid, claims({ iss: 'someone-else' })), /issuer/);
    const { sid: _sid, ...withoutSid } = claims();
    await expectRejected(sign(current.privateKey, kid, withoutSid), /claims/);
    await expectRejected(sign(current.privateKey, kid, claims({ sub: randomUUID() })), /no longer exists/);
  });

  it('refuses a revoked API key and a made-up one', async () => {
    const key = await createApiKey(api, tenant.accessToken, { scopes: ['jobs:read'] });
    expect((await api.request('/api/me', { headers: key.headers })).status).toBe(200);
    await api.request(`/api/api-keys/${key.id}`, { method: 'DELETE', headers: tenant.headers });
    await expectRejected(key.key);
    await expectRejected(`ck_abcdefgh_${'x'.repeat(43)}`);
    await expectRejected('not-a-token-at-all');
  });

  it('keeps verifying tokens signed with the previous key after a rotation', async () => {
    const token = sign(previous.privateKey, rsaThumbprint(previous.publicKey));
    expect((await api.request('/api/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});

describe('JWKS', () => {
  it('publishes the current and previous public keys, which verify tokens with an independent library', async () => {
    const res = await api.request('/auth/jwks');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/max-age/);
    const jwks = (await res.json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys.map((k) => k.kid)).toEqual([rsaThumbprint(current.publicKey), rsaThumbprint(previous.publicKey)]);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
    const keySet = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
    const verified = await jwtVerify(tenant.accessToken, keySet, { issuer: 'catalytic', algorithms: ['RS256'] });
    expect(verified.payload).toMatchObject({ sub: tenant.userId, tenant_id: tenant.tenantId });
    await expect(jwtVerify(sign(previous.privateKey, rsaThumbprint(previous.publicKey)), keySet)).resolves.toBeTruthy();
    await expect(jwtVerify(sign(retired.privateKey, rsaThumbprint(retired.publicKey)), keySet)).rejects.toThrow();
  });
});

describe('local signing key', () => {
  it('is generated once into JWT_KEYS_DIR with mode 0600 and reused afterwards', () => {
    const keysDir = join(dir, 'local');
    const first = loadKeyRing({ JWT_KEYS_DIR: keysDir });
    const mode = statSync(join(keysDir, LOCAL_KEY_FILE)).mode & 0o777;
    expect(mode).toBe(0o600);
    const second = loadKeyRing({ JWT_KEYS_DIR: keysDir });
    expect(second.signing.kid).toBe(first.signing.kid);
    expect(first.jwks.keys).toHaveLength(1);
  });

  it('names a bad key setting in its error', () => {
    writeFileSync(join(dir, 'garbage.pem'), 'not a key');
    expect(() => loadKeyRing({ JWT_KEYS_DIR: dir, JWT_PRIVATE_KEY_FILE: join(dir, 'garbage.pem') })).toThrow(/JWT_PRIVATE_KEY_FILE/);
    expect(() => loadKeyRing({ JWT_KEYS_DIR: dir, JWT_PRIVATE_KEY_FILE: join(dir, 'missing.pem') })).toThrow(/JWT_PRIVATE_KEY_FILE/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() => loadKeyRing({ JWT_KEYS_DIR: dir, JWT_PRIVATE_KEY: pem(small, 'pkcs8') })).toThrow(/JWT_PRIVATE_KEY: must be an RSA key of at least 2048 bits/);
  });

  it('stops the api role with exit code 78 and one line naming the setting', async () => {
    const child = spawnCatalytic(['api'], { ...env.env, JWT_PRIVATE_KEY_FILE: join(dir, 'missing.pem') });
    expect(await child.exited).toBe(78);
    expect(child.output().trim()).toMatch(/^catalytic: Invalid setting JWT_PRIVATE_KEY_FILE: cannot be read/);
    expect(child.output().trim().split('\n')).toHaveLength(1);
  });
});
