/**
 * The RS256 keys access tokens are signed and verified with.
 *
 * The signing key comes from `JWT_PRIVATE_KEY` (PEM), else `JWT_PRIVATE_KEY_FILE`, else (outside
 * production) a key pair generated once into `JWT_KEYS_DIR` and kept there. Public keys of earlier
 * signing keys, listed in `JWT_PREVIOUS_PUBLIC_KEYS_FILE`, keep verifying, so a rotation does not
 * sign anyone out: tokens signed with the old key live until they expire. Every key is named by
 * its RFC 7638 thumbprint (`kid`), published at `/auth/jwks`.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, ConfigError } from '../../shared/config.ts';
import { writeOnce } from '../../shared/write-once.ts';

/** File name of the generated key in `JWT_KEYS_DIR`. */
export const LOCAL_KEY_FILE = 'jwt-signing-key.pem';
const MIN_RSA_BITS = 2048;

/** A public key as published in the JWKS document. */
export interface PublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

export interface KeyRing {
  /** The key new tokens are signed with. */
  readonly signing: { readonly kid: string; readonly privateKey: KeyObject };
  /** Every key a token may be verified with, by `kid` (the signing key's public half included). */
  readonly verification: ReadonlyMap<string, KeyObject>;
  /** The JWKS document (`{ keys: [...] }`), signing key first. */
  readonly jwks: { keys: PublicJwk[] };
}

/** RFC 7638 JWK thumbprint of an RSA public key: SHA-256 over its required members, in order. */
export function rsaThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const canonical = JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

function assertRsa(key: KeyObject, variable: string): void {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS) {
    throw new ConfigError(variable, `must be an RSA key of at least ${MIN_RSA_BITS} bits`);
  }
}

function readPrivateKey(pem: string, variable: string): KeyObject {
  let key: KeyObject;
  try {
    // Environment variables often carry PEM with literal `\n`.
    key = createPrivateKey(pem.replace(/\\n/g, '\n'));
  } catch (err) {
    throw new ConfigError(variable, `is not a PEM private key (${(err as Error).message})`);
  }
  assertRsa(key, variable);
  return key;
}

function readFile(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(variable, `cannot be read: ${(err as Error).message}`);
  }
}

/** Reads the local key, generating it first if absent; safe when several processes start at once. */
export function ensureLocalSigningKey(dir: string): string {
  const path = join(dir, LOCAL_KEY_FILE);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError('JWT_KEYS_DIR', (err as Error).message);
  }
  try {
    return writeOnce(path, () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('JWT_KEYS_DIR', `cannot hold the generated signing key: ${(err as Error).message}`);
  }
}

/** Splits a file of concatenated PEM public keys (certificates are not accepted). */
function readPreviousKeys(path: string): KeyObject[] {
  const text = readFile(path, 'JWT_PREVIOUS_PUBLIC_KEYS_FILE');
  const blocks = text.match(/-----BEGIN (?:RSA )?PUBLIC KEY-----[\s\S]+?-----END (?:RSA )?PUBLIC KEY-----/g) ?? [];
  return blocks.map((pem) => {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (err) {
      throw new ConfigError('JWT_PREVIOUS_PUBLIC_KEYS_FILE', `holds a key that is not valid PEM (${(err as Error).message})`);
    }
    assertRsa(key, 'JWT_PREVIOUS_PUBLIC_KEYS_FILE');
    return key;
  });
}

function toJwk(publicKey: KeyObject, kid: string): PublicJwk {
  const jwk = publicKey.export({ format: 'jwk' });
  return { kty: 'RSA', n: String(jwk.n), e: String(jwk.e), kid, alg: 'RS256', use: 'sig' };
}

/** Loads the signing key and the keys that verify, as configured. */
export function loadKeyRing(
  config: Pick<Config, 'JWT_PRIVATE_KEY' | 'JWT_PRIVATE_KEY_FILE' | 'JWT_KEYS_DIR' | 'JWT_PREVIOUS_PUBLIC_KEYS_FILE'>,
): KeyRing {
  const privateKey = config.JWT_PRIVATE_KEY
    ? readPrivateKey(config.JWT_PRIVATE_KEY, 'JWT_PRIVATE_KEY')
    : config.JWT_PRIVATE_KEY_FILE
      ? readPrivateKey(readFile(config.JWT_PRIVATE_KEY_FILE, 'JWT_PRIVATE_KEY_FILE'), 'JWT_PRIVATE_KEY_FILE')
      : readPrivateKey(ensureLocalSigningKey(config.JWT_KEYS_DIR), 'JWT_KEYS_DIR');
  const publicKey = createPublicKey(privateKey);
  const kid = rsaThumbprint(publicKey);

  const verification = new Map<string, KeyObject>([[kid, publicKey]]);
  const previous = config.JWT_PREVIOUS_PUBLIC_KEYS_FILE ? readPreviousKeys(config.JWT_PREVIOUS_PUBLIC_KEYS_FILE) : [];
  for (const key of previous) verification.set(rsaThumbprint(key), key);

  return {
    signing: { kid, privateKey },
    verification,
    jwks: { keys: [...verification].map(([id, key]) => toJwk(key, id)) },
  };
}
